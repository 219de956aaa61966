"""``notifier dlq``: the parking lot for operators (list, show, requeue, purge)."""

import json

import click
from flask.cli import ScriptInfo, pass_script_info

from notifier.pipeline import parking
from notifier.pipeline.broker import BrokerConnection
from notifier.settings import settings_of

REASON_WIDTH = 70
SHOW_SCAN_LIMIT = 100000


def _broker(script_info: ScriptInfo) -> BrokerConnection:
    broker = BrokerConnection(settings_of(script_info.load_app()).broker_url, 'notifier dlq')
    broker.open()
    return broker


@click.group('dlq')
def dlq_group() -> None:
    """Inspect and replay the parking lot (notifier.parking-lot)."""


@dlq_group.command('list')
@click.option('--limit', type=click.IntRange(min=1), default=100, show_default=True)
@pass_script_info
def dlq_list(script_info: ScriptInfo, limit: int) -> None:
    """List parked messages: key, stage, attempts, reason."""
    broker = _broker(script_info)
    total = broker.message_count(parking.PARKING_QUEUE)
    parked = parking.browse(broker, limit)
    click.echo('{0} message(s) in the parking lot{1}'.format(
        total, ', showing {0}'.format(len(parked)) if len(parked) < total else '',
    ))
    for message in parked:
        click.echo('{0}  {1:<9} attempts={2}  {3}'.format(
            message.key, message.parked_by, message.attempts, message.reason[:REASON_WIDTH],
        ))


@dlq_group.command('show')
@click.argument('key')
@pass_script_info
def dlq_show(script_info: ScriptInfo, key: str) -> None:
    """Show one parked message: its reason, headers and body."""
    message = _find(parking.browse(_broker(script_info), limit=SHOW_SCAN_LIMIT), key)
    click.echo('key:          {0}'.format(message.key))
    click.echo('parked by:    {0}'.format(message.parked_by))
    click.echo('reason:       {0}'.format(message.reason))
    click.echo('routing key:  {0}'.format(message.routing_key or 'unknown'))
    click.echo('attempts:     {0}'.format(message.attempts))
    click.echo('headers:      {0}'.format(json.dumps(message.headers, default=str, ensure_ascii=False)))
    click.echo('body:')
    click.echo(_pretty(message.body))


def _find(parked: list[parking.ParkedMessage], key: str) -> parking.ParkedMessage:
    for message in parked:
        if message.key == key:
            return message
    raise click.ClickException('no parked message {0}'.format(key))


def _pretty(body: bytes) -> str:
    try:
        return json.dumps(json.loads(body), indent=2, ensure_ascii=False)
    except ValueError:
        return repr(body)


@dlq_group.command('requeue')
@click.argument('keys', nargs=-1)
@click.option('--all', 'replay_all', is_flag=True, help='Replay every parked message.')
@pass_script_info
def dlq_requeue(script_info: ScriptInfo, keys: tuple[str, ...], replay_all: bool) -> None:
    """Send parked messages back to their queue; what was already sent is not sent again."""
    if replay_all == bool(keys):
        raise click.UsageError('give the keys of the messages to replay, or --all')
    replayed, stuck = parking.requeue(_broker(script_info), None if replay_all else set(keys))
    click.echo('requeued {0} message(s)'.format(replayed))
    if stuck:
        click.echo('left {0} message(s) whose queue is unknown: {1}'.format(len(stuck), ', '.join(stuck)), err=True)


@dlq_group.command('purge')
@click.option('--yes', is_flag=True, help='Do not ask for confirmation.')
@pass_script_info
def dlq_purge(script_info: ScriptInfo, yes: bool) -> None:
    """Drop every parked message (they are gone for good)."""
    broker = _broker(script_info)
    total = broker.message_count(parking.PARKING_QUEUE)
    if not yes:
        click.confirm('drop {0} parked message(s) for good?'.format(total), abort=True)
    click.echo('purged {0} message(s)'.format(parking.purge(broker)))
