"""wechat and wecom channel tables

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-24 21:15:20.886435
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('channel_inbox',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('channel', sa.String(length=20), nullable=False),
    sa.Column('message_key', sa.String(length=64), nullable=False),
    sa.Column('state', sa.String(length=20), nullable=False),
    sa.Column('reply', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_channel_inbox')),
    sa.UniqueConstraint('channel', 'message_key', name='uq_channel_inbox_key')
    )
    with op.batch_alter_table('channel_inbox', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_channel_inbox_created_at'), ['created_at'], unique=False)

    op.create_table('channel_tokens',
    sa.Column('channel', sa.String(length=20), nullable=False),
    sa.Column('access_token', sa.Text(), nullable=False),
    sa.Column('expires_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('channel', name=op.f('pk_channel_tokens'))
    )
    op.create_table('channel_users',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('channel', sa.String(length=20), nullable=False),
    sa.Column('sender_id', sa.String(length=64), nullable=False),
    sa.Column('external_id', sa.String(length=128), nullable=False),
    sa.Column('subscribed', sa.Boolean(), nullable=False),
    sa.Column('last_inbound_at', sa.DateTime(), nullable=True),
    sa.Column('menu', sa.JSON(), nullable=True),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_channel_users')),
    sa.UniqueConstraint('channel', 'external_id', name='uq_channel_users_external'),
    sa.UniqueConstraint('sender_id', name=op.f('uq_channel_users_sender_id'))
    )


def downgrade() -> None:
    op.drop_table('channel_users')
    op.drop_table('channel_tokens')
    with op.batch_alter_table('channel_inbox', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_channel_inbox_created_at'))

    op.drop_table('channel_inbox')
