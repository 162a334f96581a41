"""transfer requests remember an upgrade met on the road

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01 23:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("transfer_requests") as batch:
        batch.add_column(sa.Column("upgrade_to", sa.String(length=24), nullable=True))
        batch.add_column(sa.Column("upgrade_destination", sa.String(length=24), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("transfer_requests") as batch:
        batch.drop_column("upgrade_destination")
        batch.drop_column("upgrade_to")
