"""notifications.content_id: the film, series or episode a notification is about

Revision ID: 0009_content_id
Revises: 0008
Create Date: 2026-12-05 18:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0009_content_id'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('notifications') as batch_op:
        batch_op.add_column(sa.Column('content_id', sa.String(length=64), nullable=True))
        batch_op.create_index(batch_op.f('ix_notifications_content_id'), ['content_id'], unique=False)


def downgrade():
    with op.batch_alter_table('notifications') as batch_op:
        batch_op.drop_index(batch_op.f('ix_notifications_content_id'))
        batch_op.drop_column('content_id')
