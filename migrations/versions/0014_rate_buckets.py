"""rate_buckets: the token bucket of each limit, shared by every process (a limit is a total, not per process)

Revision ID: 0014_rate_buckets
Revises: 0013_deliveries_hot_updates
Create Date: 2026-12-05 21:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0014_rate_buckets'
down_revision = '0013_deliveries_hot_updates'
branch_labels = None
depends_on = None


def upgrade():
    # Created on SQLite too (the schema is one), where a single process keeps its buckets in memory.
    op.create_table(
        'rate_buckets',
        sa.Column('name', sa.String(length=128), nullable=False),
        sa.Column('next_free', sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint('name'),
    )


def downgrade():
    op.drop_table('rate_buckets')
