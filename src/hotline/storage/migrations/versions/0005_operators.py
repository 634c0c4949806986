"""bounded password guessing (login_failures, login_sources); held client_ref per user

Revision ID: 0005_operators
Revises: 0004_held
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005_operators"
down_revision = "0004_held"
branch_labels = ("operators",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "login_failures",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("user", sa.String(length=100), nullable=False),
        sa.Column("source", sa.String(length=64), nullable=False),
        sa.Column("at", sa.String(length=30), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_login_failures_source", "login_failures", ["source", "at"], unique=False)
    op.create_index("ix_login_failures_user", "login_failures", ["user", "at"], unique=False)
    op.create_table(
        "login_sources",
        sa.Column("user", sa.String(length=100), nullable=False),
        sa.Column("source", sa.String(length=64), nullable=False),
        sa.Column("last_ok", sa.String(length=30), nullable=False),
        sa.PrimaryKeyConstraint("user", "source", name="pk_login_sources"),
    )
    # held_messages.client_ref was unique across users (0004, an unnamed constraint):
    # now one user's reference never finds, or blocks, another's.
    if op.get_bind().dialect.name == "sqlite":
        convention = {"uq": "uq_%(table_name)s_%(column_0_name)s"}
        with op.batch_alter_table("held_messages", naming_convention=convention) as batch:
            batch.drop_constraint("uq_held_messages_client_ref", type_="unique")
            batch.create_unique_constraint(
                "uq_held_messages_user_ref", ["requested_by", "client_ref"]
            )
    else:
        op.drop_constraint("held_messages_client_ref_key", "held_messages", type_="unique")
        op.create_unique_constraint(
            "uq_held_messages_user_ref", "held_messages", ["requested_by", "client_ref"]
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        with op.batch_alter_table("held_messages") as batch:
            batch.drop_constraint("uq_held_messages_user_ref", type_="unique")
            batch.create_unique_constraint("held_messages_client_ref_key", ["client_ref"])
    else:
        op.drop_constraint("uq_held_messages_user_ref", "held_messages", type_="unique")
        op.create_unique_constraint("held_messages_client_ref_key", "held_messages", ["client_ref"])
    op.drop_table("login_sources")
    op.drop_index("ix_login_failures_user", table_name="login_failures")
    op.drop_index("ix_login_failures_source", table_name="login_failures")
    op.drop_table("login_failures")
