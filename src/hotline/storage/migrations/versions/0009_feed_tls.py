"""feeds can connect over TLS with a client certificate (a TAK server's port 8089)

Revision ID: 0009_feed_tls
Revises: 0007_feeds

One nullable column on ``feeds``: ``tls`` (JSON: the CA, client certificate and key files,
and an optional server name). Existing feeds stay plain TCP or UDP. The ``cot-out`` kind
(the picture sent to TAK) fits the existing ``kind`` column. Idempotent like 0008: a
column already there is left as found. Downgrade drops it.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009_feed_tls"
down_revision = "0007_feeds"  # the feeds table is 0007_feeds' (itself on 0006_states)
branch_labels = None
depends_on = None


def upgrade() -> None:
    have = {c["name"] for c in sa.inspect(op.get_bind()).get_columns("feeds")}
    if "tls" not in have:  # run again after its version row was removed
        with op.batch_alter_table("feeds") as batch:
            batch.add_column(sa.Column("tls", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("feeds") as batch:
        batch.drop_column("tls")
