"""the recorded picture: every accepted position report, indexed by time and by track

Revision ID: 0009_record
Revises: 0006_states

Idempotent like the 0007_* revisions: a table (or index) already there is left as found.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009_record"
down_revision = "0006_states"
branch_labels = ("record",)
depends_on = None

TABLE = "track_positions"
INDEXES = (
    ("ix_track_positions_at", ["at_ms"]),
    ("ix_track_positions_track_at", ["track", "at_ms"]),
)


def upgrade() -> None:
    inspector = sa.inspect(op.get_bind())
    if not inspector.has_table(TABLE):  # else: run again after its version row was removed
        op.create_table(
            TABLE,
            sa.Column(
                "id",
                sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
                autoincrement=True,
                nullable=False,
            ),
            sa.Column("at_ms", sa.BigInteger(), nullable=False),
            sa.Column("track", sa.String(length=48), nullable=False),
            sa.Column("party", sa.String(length=32), nullable=False),
            sa.Column("source", sa.String(length=32), nullable=False),
            sa.Column("lat", sa.Float(), nullable=False),
            sa.Column("lon", sa.Float(), nullable=False),
            sa.Column("alt_m", sa.Float(), nullable=False),
            sa.Column("gs_mps", sa.Float(), nullable=False),
            sa.Column("trk_deg", sa.Float(), nullable=False),
            sa.Column("vs_mps", sa.Float(), nullable=False),
            sa.Column("callsign", sa.String(length=32), nullable=True),
            sa.PrimaryKeyConstraint("id"),
        )
    have = {ix["name"] for ix in sa.inspect(op.get_bind()).get_indexes(TABLE)}
    for name, columns in INDEXES:
        if name not in have:
            op.create_index(name, TABLE, columns)


def downgrade() -> None:
    op.drop_table(TABLE)
