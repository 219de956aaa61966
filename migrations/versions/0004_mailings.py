"""mailings and rate limits

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-27 17:20:00

"""
from alembic import op
import sqlalchemy as sa


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('mailings',
    sa.Column('notification_id', sa.String(length=36), nullable=False),
    sa.Column('audience', sa.JSON(), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('cursor', sa.String(length=255), nullable=True),
    sa.Column('expanded', sa.Integer(), nullable=False),
    sa.Column('total', sa.Integer(), nullable=True),
    sa.Column('started_at', sa.DateTime(), nullable=False),
    sa.Column('expanded_at', sa.DateTime(), nullable=True),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['notification_id'], ['notifications.id'], name=op.f('fk_mailings_notification_id_notifications'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('notification_id', name=op.f('pk_mailings'))
    )
    with op.batch_alter_table('mailings', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_mailings_state'), ['state'], unique=False)

    op.create_table('rate_limits',
    sa.Column('name', sa.String(length=128), nullable=False),
    sa.Column('per_second', sa.Float(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('name', name=op.f('pk_rate_limits'))
    )


def downgrade():
    op.drop_table('rate_limits')
    with op.batch_alter_table('mailings', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_mailings_state'))

    op.drop_table('mailings')
