"""blobs: when a file wanted from a peer is next asked for

Revision ID: 0009_attach_retry
Revises: 0009_attachments

One nullable column on ``blobs``: ``retry_at`` (null: due now). A file the sender answers
``404`` for is asked again later and later; a file that failed otherwise goes to the back
of the queue (``services/attachments/pull.py``). Idempotent like the 0007_* revisions: a
column already there is left as found. Downgrade drops it.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009_attach_retry"
down_revision = "0009_attachments"  # blobs is created by 0009_attachments
branch_labels = None
depends_on = None


def upgrade() -> None:
    have = {c["name"] for c in sa.inspect(op.get_bind()).get_columns("blobs")}
    if "retry_at" not in have:  # run again after its version row was removed
        with op.batch_alter_table("blobs") as batch:
            batch.add_column(sa.Column("retry_at", sa.String(length=30), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("blobs") as batch:
        batch.drop_column("retry_at")
