"""checkpoints signed and co-signed, and the forks seen (evidence)

Revision ID: 0003_evidence
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003_evidence"
down_revision = "0002"
branch_labels = ("evidence",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "log_checkpoints",
        sa.Column("size", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("root", sa.String(length=64), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("signed_at", sa.String(length=30), nullable=False),
        sa.PrimaryKeyConstraint("size"),
    )
    op.create_table(
        "cosigned_checkpoints",
        sa.Column("log", sa.String(length=32), nullable=False),
        sa.Column("cosigner", sa.String(length=32), nullable=False),
        sa.Column("size", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("root", sa.String(length=64), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("cosigned_at", sa.String(length=30), nullable=False),
        sa.PrimaryKeyConstraint("log", "cosigner", "size"),
    )
    op.create_table(
        "log_forks",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("log", sa.String(length=32), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("detected_at", sa.String(length=30), nullable=False),
        sa.Column("old_size", sa.BigInteger(), nullable=True),
        sa.Column("new_size", sa.BigInteger(), nullable=True),
        sa.Column("old_note", sa.Text(), nullable=True),
        sa.Column("new_note", sa.Text(), nullable=True),
        sa.Column("proof", sa.Text(), nullable=True),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_log_forks_log", "log_forks", ["log"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_log_forks_log", table_name="log_forks")
    op.drop_table("log_forks")
    op.drop_table("cosigned_checkpoints")
    op.drop_table("log_checkpoints")
