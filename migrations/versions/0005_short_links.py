"""short_links and link_clicks

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-28 10:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('short_links',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('code', sa.String(length=32), nullable=False),
    sa.Column('target', sa.String(length=2000), nullable=False),
    sa.Column('delivery_id', sa.String(length=36), nullable=True),
    sa.Column('notification_id', sa.String(length=36), nullable=True),
    sa.Column('expires_at', sa.DateTime(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['delivery_id'], ['deliveries.id'], name=op.f('fk_short_links_delivery_id_deliveries')),
    sa.ForeignKeyConstraint(['notification_id'], ['notifications.id'], name=op.f('fk_short_links_notification_id_notifications')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_short_links')),
    sa.UniqueConstraint('code', name=op.f('uq_short_links_code'))
    )
    with op.batch_alter_table('short_links', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_short_links_delivery_id'), ['delivery_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_short_links_notification_id'), ['notification_id'], unique=False)

    op.create_table('link_clicks',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('short_link_id', sa.String(length=36), nullable=False),
    sa.Column('clicked_at', sa.DateTime(), nullable=False),
    sa.Column('delivery_id', sa.String(length=36), nullable=True),
    sa.ForeignKeyConstraint(['delivery_id'], ['deliveries.id'], name=op.f('fk_link_clicks_delivery_id_deliveries')),
    sa.ForeignKeyConstraint(['short_link_id'], ['short_links.id'], name=op.f('fk_link_clicks_short_link_id_short_links'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_link_clicks'))
    )
    with op.batch_alter_table('link_clicks', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_link_clicks_short_link_id'), ['short_link_id'], unique=False)


def downgrade():
    with op.batch_alter_table('link_clicks', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_link_clicks_short_link_id'))

    op.drop_table('link_clicks')
    with op.batch_alter_table('short_links', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_short_links_notification_id'))
        batch_op.drop_index(batch_op.f('ix_short_links_delivery_id'))

    op.drop_table('short_links')
