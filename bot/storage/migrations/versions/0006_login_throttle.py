"""login throttle per account name, client address and browser; the per-account lock columns go

Revision ID: 0006
Revises: 0005
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "login_throttle",
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("last_failed_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_login_throttle")),
    )
    op.create_index(op.f("ix_login_throttle_last_failed_at"), "login_throttle", ["last_failed_at"])
    with op.batch_alter_table("staff_users") as batch:
        batch.drop_column("locked_until")
        batch.drop_column("failed_logins")


def downgrade() -> None:
    with op.batch_alter_table("staff_users") as batch:
        batch.add_column(sa.Column("failed_logins", sa.Integer(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("locked_until", sa.DateTime(), nullable=True))
    op.drop_index(op.f("ix_login_throttle_last_failed_at"), table_name="login_throttle")
    op.drop_table("login_throttle")
