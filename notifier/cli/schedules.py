"""``notifier schedules``: see, pause, resume and fire periodic notifications."""

import click
from flask.cli import ScriptInfo, pass_script_info
from sqlalchemy import select

from notifier.extensions import db
from notifier.models import Schedule
from notifier.models.base import utcnow
from notifier.scheduler.run_now import AlreadyFiredError, fire_now
from notifier.services.schedules import set_enabled

SCHEDULE_ARGUMENT = click.argument('key')


def _schedule(key: str) -> Schedule:
    """A schedule by id or by name."""
    found = db.session.get(Schedule, key)
    if found is None:
        found = db.session.scalar(select(Schedule).where(Schedule.name == key))
    if found is None:
        raise click.ClickException('no schedule with id or name {0!r}'.format(key))
    return found


def _timing(schedule: Schedule) -> str:
    if schedule.cron:
        return '{0} ({1})'.format(schedule.cron, schedule.timezone)
    return 'every {0}s'.format(schedule.interval_seconds)


@click.group('schedules')
def schedules_group() -> None:
    """Periodic notifications (create and edit them through /api/v1/schedules)."""


@schedules_group.command('list')
@pass_script_info
def schedules_list(script_info: ScriptInfo) -> None:
    """Every schedule: name, timing, state and next fire time."""
    with script_info.load_app().app_context():
        found = db.session.scalars(select(Schedule).order_by(Schedule.name)).all()
        if not found:
            click.echo('no schedules')
        for schedule in found:
            click.echo('{0:<24} {1:<32} {2:<8} next: {3}{4}'.format(
                schedule.name,
                _timing(schedule),
                'enabled' if schedule.enabled else 'paused',
                schedule.next_fire_at.isoformat() if schedule.next_fire_at else '—',
                '  FAILING: {0}'.format(schedule.failure) if schedule.failure else '',
            ))


@schedules_group.command('show')
@SCHEDULE_ARGUMENT
@pass_script_info
def schedules_show(script_info: ScriptInfo, key: str) -> None:
    """One schedule (by id or name)."""
    with script_info.load_app().app_context():
        for label, shown in _described(_schedule(key)):
            click.echo('{0:<13}{1}'.format('{0}:'.format(label), shown))


def _described(schedule: Schedule) -> list[tuple[str, object]]:
    described: list[tuple[str, object]] = [
        ('id', schedule.id),
        ('name', schedule.name),
        ('timing', _timing(schedule)),
        ('type', schedule.type),
        ('audience', schedule.audience),
        ('misfire', '{0}, max lateness {1}'.format(schedule.misfire_policy, schedule.max_lateness_seconds or 'none')),
        ('enabled', schedule.enabled),
        ('next fire', schedule.next_fire_at),
    ]
    if schedule.failure:
        described.extend([('failure', schedule.failure), ('failed at', schedule.failed_at)])
    return described


@schedules_group.command('pause')
@SCHEDULE_ARGUMENT
@pass_script_info
def schedules_pause(script_info: ScriptInfo, key: str) -> None:
    """Stop firing; nothing is caught up on resume."""
    with script_info.load_app().app_context():
        schedule = set_enabled(db.session(), _schedule(key), False, utcnow())
        click.echo('paused {0}'.format(schedule.name))


@schedules_group.command('resume')
@SCHEDULE_ARGUMENT
@pass_script_info
def schedules_resume(script_info: ScriptInfo, key: str) -> None:
    """Fire again, from the next fire time after now."""
    with script_info.load_app().app_context():
        schedule = set_enabled(db.session(), _schedule(key), True, utcnow())
        click.echo('resumed {0}, next fire {1}'.format(schedule.name, schedule.next_fire_at))


@schedules_group.command('run-now')
@SCHEDULE_ARGUMENT
@pass_script_info
def schedules_run_now(script_info: ScriptInfo, key: str) -> None:
    """Fire one occurrence now (outside the timing); the outbox relay publishes it within seconds."""
    with script_info.load_app().app_context():
        try:
            notifications = fire_now(db.session(), _schedule(key), utcnow())
        except AlreadyFiredError as error:
            raise click.ClickException(str(error)) from None
        click.echo('fired {0}: {1} notification(s) queued'.format(key, notifications))
