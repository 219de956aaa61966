"""``notifier outbox``: outbox rows the relay set aside (the broker refused them), and putting them back."""

import click
from flask.cli import ScriptInfo, pass_script_info
from sqlalchemy import select, update

from notifier.extensions import db
from notifier.models import OutboxMessage

LIST_LIMIT = 100
#: Not published, and no longer tried by the relay.
SET_ASIDE = OutboxMessage.published_at.is_(None) & OutboxMessage.set_aside_at.isnot(None)


@click.group('outbox')
def outbox_group() -> None:
    """Outbox rows the relay set aside after the broker refused them again and again."""


@outbox_group.command('list')
@pass_script_info
def outbox_list(script_info: ScriptInfo) -> None:
    """Rows set aside: id, routing key, attempts, when and why."""
    with script_info.load_app().app_context():
        set_aside = db.session.scalars(
            select(OutboxMessage)
            .where(SET_ASIDE)
            .order_by(OutboxMessage.id)
            .limit(LIST_LIMIT),
        ).all()
        if not set_aside:
            click.echo('no outbox row is set aside')
        for row in set_aside:
            click.echo('{0}  {1:<24} attempts={2}  set aside {3}: {4}'.format(
                row.id, row.routing_key, row.publish_attempts, row.set_aside_at, row.last_error,
            ))


@outbox_group.command('retry')
@click.argument('row_ids', nargs=-1, type=int)
@click.option('--all', 'retry_all', is_flag=True, help='Put back every row set aside.')
@pass_script_info
def outbox_retry(script_info: ScriptInfo, row_ids: tuple[int, ...], retry_all: bool) -> None:
    """Give rows set aside back to the relay (after fixing the cause), with a fresh attempt count."""
    if retry_all == bool(row_ids):
        raise click.UsageError('give the ids of the rows to retry, or --all')
    chosen = select(OutboxMessage.id).where(SET_ASIDE)
    if not retry_all:
        chosen = chosen.where(OutboxMessage.id.in_(row_ids))
    with script_info.load_app().app_context():
        put_back = list(db.session.scalars(chosen).all())
        db.session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id.in_(put_back))
            .values(set_aside_at=None, publish_attempts=0)
            .execution_options(synchronize_session=False),
        )
        db.session.commit()
        click.echo('gave {0} row(s) back to the relay'.format(len(put_back)))
