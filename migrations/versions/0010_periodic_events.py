"""schedules.idempotency_key and request_hash: schedules made from periodic events

Revision ID: 0010_periodic_events
Revises: 0009_content_id
Create Date: 2026-12-05 18:30:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0010_periodic_events'
down_revision = '0009_content_id'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('schedules') as batch_op:
        batch_op.add_column(sa.Column('idempotency_key', sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column('request_hash', sa.String(length=64), nullable=True))
        batch_op.create_unique_constraint(batch_op.f('uq_schedules_idempotency_key'), ['idempotency_key'])


def downgrade():
    with op.batch_alter_table('schedules') as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_schedules_idempotency_key'), type_='unique')
        batch_op.drop_column('request_hash')
        batch_op.drop_column('idempotency_key')
