"""A mailing as a manager plans it: what to send, to whom, on which channels, and when.

A plan is stored as a draft that nothing sends: a bulk notification in status
``draft`` and its mailing in state ``draft`` (the router, the scheduler and
the generator only move other statuses, and a draft has no outbox row). The
timing is kept where the pipeline looks for it: ``scheduled_at`` of the
notification for "at a time"; the zone of that time and a cron schedule's
expression ride in the draft mailing's audience under ``timing``, which the
launch of a one-off mailing strips. A recurring plan is never expanded
itself: each fire of its schedule makes a new mailing with the plain audience.
"""

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final
from zoneinfo import ZoneInfo

from notifier.models import Mailing, Notification
from notifier.notification_types import category_of
from notifier.services.audiences import describe_audience

#: ``Mailing.state`` and ``Notification.status`` of a plan that was not launched.
DRAFT: Final = 'draft'
#: ``Mailing.state`` and ``Notification.status`` of a launched cron plan: its schedule makes the mailings.
RECURRING: Final = 'recurring'
TIMING_KEY: Final = 'timing'
DEFAULT_TIMEZONE: Final = 'UTC'


class TimingKind:
    """When a mailing goes out."""

    now: Final = 'now'
    at: Final = 'at'
    cron: Final = 'cron'


@dataclass(frozen=True)
class Timing:
    """Now, at ``send_at`` (aware), or on every fire of ``cron`` in ``timezone``."""

    kind: str = TimingKind.now
    send_at: dt.datetime | None = None
    cron: str | None = None
    timezone: str = DEFAULT_TIMEZONE

    def describe(self) -> str:
        """When, in words: ``now``, ``at 2025-03-01 10:00 (Europe/Moscow)``, ``on the schedule "0 10 * * 1" (UTC)``."""
        if self.kind == TimingKind.cron:
            return 'on the schedule "{0}" ({1})'.format(self.cron, self.timezone)
        if self.kind == TimingKind.at and self.send_at is not None:
            local = self.send_at.astimezone(ZoneInfo(self.timezone))
            return 'at {0} ({1})'.format(local.strftime('%Y-%m-%d %H:%M'), self.timezone)
        return 'now'


@dataclass(frozen=True)
class MailingPlan:
    """Everything a draft holds."""

    notification_type: str
    template: str
    locale: str
    channels: tuple[str, ...]
    audience: Mapping[str, Any]
    template_fields: Mapping[str, Any] = field(default_factory=dict)
    timing: Timing = field(default_factory=Timing)

    @property
    def category(self) -> str:
        """What a recipient turns off to stop it (marketing, service)."""
        return category_of(self.notification_type)

    @property
    def audience_text(self) -> str:
        """Whom it goes to, in words."""
        return describe_audience(self.audience)


def stored_audience(plan: MailingPlan) -> dict[str, Any]:
    """The draft mailing's audience: the plan's, with the timing details the notification has no column for."""
    timing = plan.timing
    details: dict[str, Any] = {'timezone': timing.timezone}
    if timing.kind == TimingKind.cron:
        details[TimingKind.cron] = timing.cron
    return {**plan.audience, TIMING_KEY: details}


def audience_of(mailing: Mailing) -> dict[str, Any]:
    """The audience the expansion reads (without the draft's timing details)."""
    return {key: member for key, member in mailing.audience.items() if key != TIMING_KEY}


def timing_of(notification: Notification, mailing: Mailing) -> Timing:
    """A stored plan's timing."""
    details = mailing.audience.get(TIMING_KEY) or {}
    timezone = str(details.get('timezone') or DEFAULT_TIMEZONE)
    cron = details.get(TimingKind.cron)
    if cron:
        return Timing(kind=TimingKind.cron, cron=str(cron), timezone=timezone)
    if notification.scheduled_at is not None:
        return Timing(kind=TimingKind.at, send_at=notification.scheduled_at, timezone=timezone)
    return Timing(timezone=timezone)


def plan_of(notification: Notification, mailing: Mailing) -> MailingPlan:
    """The plan a draft (or a launched mailing) was made from."""
    return MailingPlan(
        notification_type=notification.type,
        template=notification.template,
        locale=notification.locale,
        channels=tuple(notification.channels),
        audience=audience_of(mailing),
        template_fields=dict(notification.fields),
        timing=timing_of(notification, mailing),
    )
