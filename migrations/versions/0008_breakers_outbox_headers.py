"""breaker_states, and outbox.headers (the request id carried through the pipeline)

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-27 20:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'breaker_states',
        sa.Column('name', sa.String(length=128), nullable=False),
        sa.Column('holder', sa.String(length=128), nullable=False),
        sa.Column('phase', sa.String(length=16), nullable=False),
        sa.Column('detail', sa.String(length=1000), nullable=True),
        sa.Column('changed_at', sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint('name', 'holder', name=op.f('pk_breaker_states')),
    )
    with op.batch_alter_table('outbox') as batch:
        batch.add_column(sa.Column('headers', sa.JSON(), nullable=True))


def downgrade():
    with op.batch_alter_table('outbox') as batch:
        batch.drop_column('headers')
    op.drop_table('breaker_states')
