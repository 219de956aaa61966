"""``notifier limits``: the run-time rate limits (token buckets), changed without a restart."""

import click
from flask.cli import ScriptInfo, pass_script_info

from notifier.extensions import db
from notifier.ratelimit import LIMIT_NAME, parse_rate
from notifier.services.limits import all_limits, set_limit


@click.group('limits')
def limits_group() -> None:
    """Run-time rate limits (token buckets).

    Names: generator.publish, channel.<name>.send, channel.email.domain.<domain>.send, users.directory.
    """


def _limit_name(name: str) -> str:
    """A limit's name as the processes look it up (lower case: domains are)."""
    lowered = name.strip().lower()
    if not LIMIT_NAME.match(lowered):
        raise click.BadParameter(
            'a name like generator.publish, channel.email.send or channel.email.domain.example.com.send',
            param_hint='NAME',
        )
    return lowered


@limits_group.command('list')
@pass_script_info
def limits_list(script_info: ScriptInfo) -> None:
    """Every configured limit (a name not listed is not limited)."""
    with script_info.load_app().app_context():
        limits = all_limits(db.session())
        if not limits:
            click.echo('no limits set')
        for limit in limits:
            click.echo('{0:<28} {1:g}/s'.format(limit.name, limit.per_second))


@limits_group.command('set')
@click.argument('name')
@click.argument('rate')
@pass_script_info
def limits_set(script_info: ScriptInfo, name: str, rate: str) -> None:
    """Set NAME to RATE (500/s, 30/m, 7200/h); running processes pick it up within seconds."""
    name = _limit_name(name)
    try:
        per_second = parse_rate(rate)
    except ValueError as error:
        raise click.BadParameter(str(error), param_hint='RATE') from None
    with script_info.load_app().app_context():
        set_limit(db.session(), name, per_second)
    click.echo('{0} = {1:g}/s'.format(name, per_second))


@limits_group.command('unset')
@click.argument('name')
@pass_script_info
def limits_unset(script_info: ScriptInfo, name: str) -> None:
    """Remove a limit (unlimited)."""
    name = _limit_name(name)
    with script_info.load_app().app_context():
        set_limit(db.session(), name, None)
    click.echo('{0} is not limited'.format(name))
