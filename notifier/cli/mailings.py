"""``notifier mailings``: watch a bulk mailing's progress; pause, resume or cancel it."""

import time

import click
from flask.cli import ScriptInfo, pass_script_info
from sqlalchemy import select

from notifier.extensions import db
from notifier.models import Mailing
from notifier.models.base import utcnow
from notifier.services import mailings as mailing_service
from notifier.services.progress import Progress, progress
from notifier.services.recurring import change_mailing

WATCH_SECONDS = 1.0
BAR_WIDTH = 40
MAILING_ARGUMENT = click.argument('key')


def _line(report: Progress) -> str:
    total = report.total or report.expanded or 0
    done = report.done
    filled = int(BAR_WIDTH * done / total) if total else 0
    eta = '—' if report.eta_seconds is None else '{0:.0f}s'.format(report.eta_seconds)
    progress_bar = '#' * filled + '.' * (BAR_WIDTH - filled)
    counts = ' '.join(
        '{0}={1}'.format(state, report.counts.get(state, 0)) for state in ('sent', 'skipped', 'failed')
    )
    return '[{0}] {1}/{2} {3} retrying={4} {5:.1f}/s eta {6} ({7})'.format(
        progress_bar, done, total or '?', counts, report.retrying, report.per_second, eta, report.state,
    )


def _finished(mailing: Mailing, report: Progress) -> bool:
    total = report.total if report.total is not None else report.expanded
    return mailing.state in {'expanded', 'cancelled'} and report.done >= total


def _mailing(key: str) -> Mailing:
    found = db.session.get(Mailing, key)
    if found is None:
        raise click.ClickException('no mailing {0} (the id of its bulk notification)'.format(key))
    return found


@click.group('mailings')
def mailings_group() -> None:
    """Bulk mailings: progress, pause, resume, cancel."""


@mailings_group.command('list')
@pass_script_info
def mailings_list(script_info: ScriptInfo) -> None:
    """Every mailing with its progress."""
    with script_info.load_app().app_context():
        newest_first = select(Mailing).order_by(Mailing.started_at.desc())
        found = db.session.scalars(newest_first).all()
        if not found:
            click.echo('no mailings')
        for mailing in found:
            report = progress(db.session(), mailing, utcnow())
            click.echo('{0}  {1}'.format(mailing.notification_id, _line(report)))


@mailings_group.command('watch')
@MAILING_ARGUMENT
@pass_script_info
def mailings_watch(script_info: ScriptInfo, key: str) -> None:
    """A live progress bar until every recipient is done (Ctrl-C stops watching, not the mailing)."""
    with script_info.load_app().app_context():
        while True:
            mailing = _mailing(key)
            db.session.refresh(mailing)
            report = progress(db.session(), mailing, utcnow())
            click.echo('\r{0}'.format(_line(report)), nl=False)
            if _finished(mailing, report):
                click.echo()
                return
            db.session.commit()
            time.sleep(WATCH_SECONDS)


@mailings_group.command('pause')
@MAILING_ARGUMENT
@pass_script_info
def mailings_pause(script_info: ScriptInfo, key: str) -> None:
    """Stop expanding between pages."""
    _change(script_info, key, 'pause', 'paused')


@mailings_group.command('resume')
@MAILING_ARGUMENT
@pass_script_info
def mailings_resume(script_info: ScriptInfo, key: str) -> None:
    """Expand again from the checkpoint (the outbox relay publishes it within seconds)."""
    _change(script_info, key, 'resume', 'resumed')


@mailings_group.command('cancel')
@MAILING_ARGUMENT
@pass_script_info
def mailings_cancel(script_info: ScriptInfo, key: str) -> None:
    """Stop for good; deliveries not yet sent are skipped."""
    _change(script_info, key, 'cancel', 'cancelled')


def _change(script_info: ScriptInfo, key: str, action: str, done: str) -> None:
    """One-off or recurring (a recurring mailing's change applies to its schedule)."""
    with script_info.load_app().app_context():
        try:
            change_mailing(db.session(), _mailing(key), action, utcnow())
        except mailing_service.MailingStateError as error:
            raise click.ClickException(str(error)) from None
        click.echo('{0} {1}'.format(done, key))
