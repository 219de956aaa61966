"""schedules.failure/failed_at and outbox.last_error/set_aside_at: what cannot go on is set aside with its reason

Revision ID: 0011_set_aside
Revises: 0010_periodic_events
Create Date: 2026-12-05 18:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0011_set_aside'
down_revision = '0010_periodic_events'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('schedules') as batch:
        batch.add_column(sa.Column('failure', sa.Text(), nullable=True))
        batch.add_column(sa.Column('failed_at', sa.DateTime(), nullable=True))
    with op.batch_alter_table('outbox') as batch:
        batch.add_column(sa.Column('last_error', sa.Text(), nullable=True))
        batch.add_column(sa.Column('set_aside_at', sa.DateTime(), nullable=True))


def downgrade():
    with op.batch_alter_table('outbox') as batch:
        batch.drop_column('set_aside_at')
        batch.drop_column('last_error')
    with op.batch_alter_table('schedules') as batch:
        batch.drop_column('failed_at')
        batch.drop_column('failure')
