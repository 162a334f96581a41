"""Lab backlog (检测积压): tubes.resulted_at, the first valid result's test time, backfilled from lab_results

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-03 08:52:34.464195
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import bihuan.core.db

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_AWAITING = "closed_at IS NOT NULL AND resulted_at IS NULL"
_BACKFILL_POSTGRES = """
UPDATE tubes SET resulted_at = first.tested_at
FROM (SELECT tube_id, min(tested_at) AS tested_at FROM lab_results
      WHERE tube_id IS NOT NULL AND result IN ('positive', 'negative') GROUP BY tube_id) AS first
WHERE tubes.id = first.tube_id
"""
_BACKFILL = """
UPDATE tubes SET resulted_at = (
    SELECT min(r.tested_at) FROM lab_results r WHERE r.tube_id = tubes.id AND r.result IN ('positive', 'negative'))
WHERE EXISTS (SELECT 1 FROM lab_results r WHERE r.tube_id = tubes.id AND r.result IN ('positive', 'negative'))
"""


def upgrade() -> None:
    with op.batch_alter_table("tubes", schema=None) as batch_op:
        batch_op.add_column(sa.Column("resulted_at", bihuan.core.db.UTCDateTime(timezone=True), nullable=True))
    postgres = op.get_bind().dialect.name == "postgresql"
    op.execute(_BACKFILL_POSTGRES if postgres else _BACKFILL)
    with op.batch_alter_table("tubes", schema=None) as batch_op:
        batch_op.create_index(
            "ix_tubes_awaiting_result",
            ["closed_at"],
            unique=False,
            postgresql_where=sa.text(_AWAITING),
            sqlite_where=sa.text(_AWAITING),
        )
        batch_op.create_index(batch_op.f("ix_tubes_resulted_at"), ["resulted_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("tubes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_tubes_resulted_at"))
        batch_op.drop_index("ix_tubes_awaiting_result")
        batch_op.drop_column("resulted_at")
