"""console: org units, notes, teaching

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-24 22:34:13.570304
"""
from __future__ import annotations

from datetime import datetime, timezone

import sqlalchemy as sa
from alembic import op


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('faq_entries',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('slug', sa.String(length=40), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('published_version', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_faq_entries')),
    sa.UniqueConstraint('slug', name=op.f('uq_faq_entries_slug'))
    )
    op.create_table('org_units',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('parent_id', sa.Integer(), nullable=True),
    sa.Column('regions', sa.JSON(), nullable=False),
    sa.Column('employers', sa.JSON(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['parent_id'], ['org_units.id'], name=op.f('fk_org_units_parent_id_org_units')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_org_units')),
    sa.UniqueConstraint('name', name=op.f('uq_org_units_name'))
    )
    op.create_table('faq_versions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('faq_id', sa.Integer(), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('questions', sa.JSON(), nullable=False),
    sa.Column('answer', sa.Text(), nullable=False),
    sa.Column('basis', sa.Text(), nullable=False),
    sa.Column('author_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['author_id'], ['staff_users.id'], name=op.f('fk_faq_versions_author_id_staff_users')),
    sa.ForeignKeyConstraint(['faq_id'], ['faq_entries.id'], name=op.f('fk_faq_versions_faq_id_faq_entries'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_faq_versions')),
    sa.UniqueConstraint('faq_id', 'number', name='uq_faq_versions_number')
    )
    with op.batch_alter_table('faq_versions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_faq_versions_faq_id'), ['faq_id'], unique=False)

    op.create_table('publish_jobs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('stage', sa.String(length=30), nullable=False),
    sa.Column('progress', sa.Integer(), nullable=False),
    sa.Column('message', sa.Text(), nullable=False),
    sa.Column('model_name', sa.String(length=100), nullable=True),
    sa.Column('accuracy_live', sa.Float(), nullable=True),
    sa.Column('accuracy_new', sa.Float(), nullable=True),
    sa.Column('started_by_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('finished_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['started_by_id'], ['staff_users.id'], name=op.f('fk_publish_jobs_started_by_id_staff_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_publish_jobs'))
    )
    op.create_table('training_examples',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('intent', sa.String(length=80), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['created_by_id'], ['staff_users.id'], name=op.f('fk_training_examples_created_by_id_staff_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_training_examples'))
    )
    op.create_table('unrecognised_messages',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('sender_id', sa.String(length=255), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('intent', sa.String(length=80), nullable=True),
    sa.Column('confidence', sa.Float(), nullable=True),
    sa.Column('event_ts', sa.Float(), nullable=False),
    sa.Column('received_at', sa.DateTime(), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('label', sa.String(length=80), nullable=True),
    sa.Column('handled_by_id', sa.Integer(), nullable=True),
    sa.Column('handled_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['handled_by_id'], ['staff_users.id'], name=op.f('fk_unrecognised_messages_handled_by_id_staff_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_unrecognised_messages')),
    sa.UniqueConstraint('sender_id', 'event_ts', name='uq_unrecognised_messages_event')
    )
    with op.batch_alter_table('unrecognised_messages', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_unrecognised_messages_status'), ['status'], unique=False)

    op.create_table('complaint_notes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('complaint_id', sa.Integer(), nullable=False),
    sa.Column('staff_id', sa.Integer(), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['complaint_id'], ['complaints.id'], name=op.f('fk_complaint_notes_complaint_id_complaints'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['staff_id'], ['staff_users.id'], name=op.f('fk_complaint_notes_staff_id_staff_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_complaint_notes'))
    )
    with op.batch_alter_table('complaint_notes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_complaint_notes_complaint_id'), ['complaint_id'], unique=False)

    with op.batch_alter_table('complaints', schema=None) as batch_op:
        batch_op.add_column(sa.Column('region', sa.String(length=50), nullable=True))
        batch_op.add_column(sa.Column('org_unit_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('assigned_to_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_complaints_org_unit_id'), ['org_unit_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_complaints_assigned_to_id_staff_users'), 'staff_users', ['assigned_to_id'], ['id'])
        batch_op.create_foreign_key(batch_op.f('fk_complaints_org_unit_id_org_units'), 'org_units', ['org_unit_id'], ['id'])

    with op.batch_alter_table('handoffs', schema=None) as batch_op:
        batch_op.add_column(sa.Column('org_unit_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_handoffs_org_unit_id'), ['org_unit_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_handoffs_org_unit_id_org_units'), 'org_units', ['org_unit_id'], ['id'])

    with op.batch_alter_table('staff_users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('org_unit_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('failed_logins', sa.Integer(), nullable=False, server_default='0'))
        batch_op.add_column(sa.Column('locked_until', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('last_login_at', sa.DateTime(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_staff_users_org_unit_id_org_units'), 'org_units', ['org_unit_id'], ['id'])
    _units_from_names()
    with op.batch_alter_table('staff_users', schema=None) as batch_op:
        batch_op.drop_column('org_unit')


def _units_from_names() -> None:
    """Accounts made before org units had a free-text unit name: make those names units."""
    bind = op.get_bind()
    names = [row[0] for row in bind.execute(sa.text(
        "SELECT DISTINCT org_unit FROM staff_users WHERE org_unit IS NOT NULL AND org_unit <> ''"))]
    units = sa.table('org_units', sa.column('id', sa.Integer), sa.column('name', sa.String),
                     sa.column('regions', sa.JSON), sa.column('employers', sa.JSON),
                     sa.column('created_at', sa.DateTime))
    for name in names:
        bind.execute(units.insert().values(name=name, regions=[], employers=[],
                                           created_at=datetime.now(timezone.utc).replace(tzinfo=None)))
    bind.execute(sa.text("UPDATE staff_users SET org_unit_id = "
                         "(SELECT id FROM org_units WHERE org_units.name = staff_users.org_unit)"))



def downgrade() -> None:
    with op.batch_alter_table('staff_users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('org_unit', sa.VARCHAR(length=100), nullable=True))
    op.execute("UPDATE staff_users SET org_unit = (SELECT name FROM org_units WHERE org_units.id = staff_users.org_unit_id)")
    with op.batch_alter_table('staff_users', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_staff_users_org_unit_id_org_units'), type_='foreignkey')
        batch_op.drop_column('last_login_at')
        batch_op.drop_column('locked_until')
        batch_op.drop_column('failed_logins')
        batch_op.drop_column('org_unit_id')

    with op.batch_alter_table('handoffs', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_handoffs_org_unit_id_org_units'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_handoffs_org_unit_id'))
        batch_op.drop_column('org_unit_id')

    with op.batch_alter_table('complaints', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_complaints_org_unit_id_org_units'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('fk_complaints_assigned_to_id_staff_users'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_complaints_org_unit_id'))
        batch_op.drop_column('assigned_to_id')
        batch_op.drop_column('org_unit_id')
        batch_op.drop_column('region')

    with op.batch_alter_table('complaint_notes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_complaint_notes_complaint_id'))

    op.drop_table('complaint_notes')
    with op.batch_alter_table('unrecognised_messages', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_unrecognised_messages_status'))

    op.drop_table('unrecognised_messages')
    op.drop_table('training_examples')
    op.drop_table('publish_jobs')
    with op.batch_alter_table('faq_versions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_faq_versions_faq_id'))

    op.drop_table('faq_versions')
    op.drop_table('org_units')
    op.drop_table('faq_entries')
