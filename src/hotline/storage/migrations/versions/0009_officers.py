"""operators get a display name, signed into the envelopes they send

Revision ID: 0009_officers
Revises: 0006_states

One nullable column on ``users``: ``display_name`` (how the other side sees the officer:
the envelope's ``sender.name``, see docs/protocol.md). Existing operators start without
one (their envelopes carry their account name only). Idempotent like the 0007_*
revisions: a column already there is left as found. Downgrade drops it.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009_officers"
down_revision = "0006_states"
branch_labels = ("officers",)
depends_on = None


def upgrade() -> None:
    have = {c["name"] for c in sa.inspect(op.get_bind()).get_columns("users")}
    if "display_name" not in have:  # run again after its version row was removed
        with op.batch_alter_table("users") as batch:
            batch.add_column(sa.Column("display_name", sa.String(length=200), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.drop_column("display_name")
