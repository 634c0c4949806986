"""attachments: files stored once by SHA-256, in chunks; which message carries which

Revision ID: 0009_attachments
Revises: 0006_states

Three tables: ``blobs`` (one row per distinct file), ``blob_chunks`` (its bytes),
``message_attachments`` (the envelope's references). Idempotent like the 0007_*
revisions: a table already there is left as found. Downgrade drops the three.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009_attachments"
down_revision = "0006_states"
branch_labels = ("attachments",)
depends_on = None


def upgrade() -> None:
    have = set(sa.inspect(op.get_bind()).get_table_names())
    if "blobs" not in have:  # run again after its version row was removed
        op.create_table(
            "blobs",
            sa.Column("sha256", sa.String(length=64), nullable=False),
            sa.Column("size", sa.Integer(), nullable=False),
            sa.Column("content_type", sa.String(length=100), nullable=False),
            sa.Column("name", sa.String(length=200), nullable=False),
            sa.Column("state", sa.String(length=10), nullable=False),
            sa.Column("peer", sa.String(length=32), nullable=True),
            sa.Column("chunk_size", sa.Integer(), nullable=True),
            sa.Column("chunks", sa.Text(), nullable=True),
            sa.Column("failures", sa.Integer(), nullable=False),
            sa.Column("detail", sa.Text(), nullable=True),
            sa.Column("created_at", sa.String(length=30), nullable=False),
            sa.Column("completed_at", sa.String(length=30), nullable=True),
            sa.PrimaryKeyConstraint("sha256"),
        )
        op.create_index("ix_blobs_state", "blobs", ["state", "peer"])
    if "blob_chunks" not in have:
        op.create_table(
            "blob_chunks",
            sa.Column("sha256", sa.String(length=64), nullable=False),
            sa.Column("idx", sa.Integer(), nullable=False),
            sa.Column("hash", sa.String(length=64), nullable=False),
            sa.Column("data", sa.LargeBinary(), nullable=False),
            sa.PrimaryKeyConstraint("sha256", "idx"),
        )
    if "message_attachments" not in have:
        op.create_table(
            "message_attachments",
            sa.Column("message_id", sa.String(length=36), nullable=False),
            sa.Column("position", sa.Integer(), nullable=False),
            sa.Column("sha256", sa.String(length=64), nullable=False),
            sa.Column("direction", sa.String(length=3), nullable=False),
            sa.Column("name", sa.String(length=200), nullable=False),
            sa.PrimaryKeyConstraint("message_id", "position"),
        )
        op.create_index("ix_message_attachments_sha", "message_attachments", ["sha256"])


def downgrade() -> None:
    op.drop_table("message_attachments")
    op.drop_table("blob_chunks")
    op.drop_index("ix_blobs_state", table_name="blobs")
    op.drop_table("blobs")
