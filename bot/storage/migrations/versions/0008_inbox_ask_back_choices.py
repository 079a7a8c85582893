"""Untaught messages: the topics the bot offered when it asked back, and the worker's answer
(the topic chosen, a suggested label staff confirm, or "none of these")

Revision ID: 0008
Revises: 0007
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("unrecognised_messages") as batch:
        batch.add_column(sa.Column("offered", sa.JSON(), nullable=True))
        batch.add_column(sa.Column("suggested_label", sa.String(length=80), nullable=True))
        batch.add_column(sa.Column("declined", sa.Boolean(), nullable=False, server_default=sa.false()))


def downgrade() -> None:
    with op.batch_alter_table("unrecognised_messages") as batch:
        batch.drop_column("declined")
        batch.drop_column("suggested_label")
        batch.drop_column("offered")
