"""outbox: a trigger that wakes the relays (PostgreSQL NOTIFY notifier_outbox) when rows are written

Revision ID: 0012_outbox_notify
Revises: 0011_set_aside
Create Date: 2026-12-05 19:00:00.000000

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '0012_outbox_notify'
down_revision = '0011_set_aside'
branch_labels = None
depends_on = None


def upgrade():
    if op.get_bind().dialect.name != 'postgresql':
        return  # SQLite: the relays poll (NOTIFIER_RELAY_INTERVAL)
    op.execute(
        "CREATE FUNCTION notifier_outbox_written() RETURNS trigger LANGUAGE plpgsql AS $$ "
        "BEGIN PERFORM pg_notify('notifier_outbox', ''); RETURN NULL; END $$"
    )
    op.execute(
        'CREATE TRIGGER outbox_written AFTER INSERT ON outbox '
        'FOR EACH STATEMENT EXECUTE FUNCTION notifier_outbox_written()'
    )


def downgrade():
    if op.get_bind().dialect.name != 'postgresql':
        return
    op.execute('DROP TRIGGER IF EXISTS outbox_written ON outbox')
    op.execute('DROP FUNCTION IF EXISTS notifier_outbox_written()')
