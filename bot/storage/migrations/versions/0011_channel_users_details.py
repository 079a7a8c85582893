"""WeChat/WeCom users: the details (working and statutes) behind the last calculation, for "依据"

Revision ID: 0011
Revises: 0010
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("channel_users") as batch:
        batch.add_column(sa.Column("details", sa.Text(), nullable=True))
        batch.add_column(sa.Column("details_at", sa.DateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("channel_users") as batch:
        batch.drop_column("details_at")
        batch.drop_column("details")
