"""FAQ versions: who approved the text workers read; untaught messages: the org unit they are routed to

Revision ID: 0007
Revises: 0006
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("faq_versions") as batch:
        batch.add_column(sa.Column("approved_by_id", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("approved_at", sa.DateTime(), nullable=True))
        batch.create_foreign_key(op.f("fk_faq_versions_approved_by_id_staff_users"), "staff_users",
                                 ["approved_by_id"], ["id"])
    with op.batch_alter_table("unrecognised_messages") as batch:
        batch.add_column(sa.Column("org_unit_id", sa.Integer(), nullable=True))
        batch.create_foreign_key(op.f("fk_unrecognised_messages_org_unit_id_org_units"), "org_units",
                                 ["org_unit_id"], ["id"])
        batch.create_index(batch.f("ix_unrecognised_messages_org_unit_id"), ["org_unit_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("unrecognised_messages") as batch:
        batch.drop_index(batch.f("ix_unrecognised_messages_org_unit_id"))
        batch.drop_constraint(op.f("fk_unrecognised_messages_org_unit_id_org_units"), type_="foreignkey")
        batch.drop_column("org_unit_id")
    with op.batch_alter_table("faq_versions") as batch:
        batch.drop_constraint(op.f("fk_faq_versions_approved_by_id_staff_users"), type_="foreignkey")
        batch.drop_column("approved_at")
        batch.drop_column("approved_by_id")
