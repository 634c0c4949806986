"""alarms can be acknowledged ("seen by") separately from cleared

Revision ID: 0008_alarm_seen
Revises: 0006_states, 0003_links

Two nullable columns on ``alarms``: ``seen_by`` (the user who acknowledged it: the sound
stops) and ``seen_at``. Existing alarms start unseen. Idempotent like the 0007_* revisions:
a column already there is left as found. Downgrade drops both columns.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008_alarm_seen"
down_revision = ("0006_states", "0003_links")  # alarms is created by 0003_links
branch_labels = ("alarm_seen",)
depends_on = None

COLUMNS = (
    ("seen_by", sa.String(length=100)),
    ("seen_at", sa.String(length=30)),
)


def upgrade() -> None:
    have = {c["name"] for c in sa.inspect(op.get_bind()).get_columns("alarms")}
    for name, type_ in COLUMNS:
        if name not in have:  # run again after its version row was removed
            with op.batch_alter_table("alarms") as batch:
                batch.add_column(sa.Column(name, type_, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("alarms") as batch:
        for name, _type in COLUMNS:
            batch.drop_column(name)
