"""The mailing form, and the plan it stands for (and back, to edit a draft)."""

import datetime as dt
import json
from typing import Any, Final
from zoneinfo import ZoneInfo

from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import DateTimeLocalField, RadioField, SelectField, SelectMultipleField, StringField, TextAreaField
from wtforms import SelectChoice  # type: ignore[attr-defined] # WTForms 3.3's choice type; the stubs predate it
from wtforms.validators import DataRequired, Length, Optional, Regexp

from notifier.admin.forms import LOCALE, MAX_SAMPLE_LENGTH, TEMPLATE_NAME
from notifier.admin.previews import PreviewFieldsError, sample_fields
from notifier.cron import is_valid_cron, is_valid_timezone
from notifier.notification_types import NOTIFICATION_TYPES
from notifier.services.audiences import AudienceFileError, user_ids_from_file
from notifier.services.mailing_plans import MailingPlan, Timing, TimingKind
from notifier.users.directory import EVERYONE

DATETIME_FORMAT: Final = '%Y-%m-%dT%H:%M'
DEFAULT_TIMEZONE: Final = 'Europe/Moscow'
MAX_SEGMENT_LENGTH: Final = 64
MAX_CRON_LENGTH: Final = 128
MAX_TIMEZONE_LENGTH: Final = 64
SEGMENT: Final = 'segment'
USER_FILE: Final = 'file'
EVERY_USER: Final = 'everyone'
AUDIENCES: Final = (
    SelectChoice(EVERY_USER, 'Every user who did not opt out of this kind of notification'),
    SelectChoice(SEGMENT, 'The users of a segment'),
    SelectChoice(USER_FILE, 'The users of an uploaded CSV file of user ids'),
)
TIMINGS: Final = (
    SelectChoice(TimingKind.now, 'Now'),
    SelectChoice(TimingKind.at, 'At a time'),
    SelectChoice(TimingKind.cron, 'On a schedule (cron)'),
)


class PlanError(ValueError):
    """A form that does not make a plan; ``field_name`` is the field to show the message under."""

    def __init__(self, field_name: str, message: str) -> None:
        super().__init__(message)
        self.field_name = field_name


def mailing_types() -> list[SelectChoice]:
    """The notification types a mailing may be of: every one that respects opt-outs."""
    return [
        SelectChoice(kind.name, '{0} ({1})'.format(kind.name, kind.category))
        for kind in NOTIFICATION_TYPES.values() if not kind.transactional
    ]


class MailingForm(FlaskForm):
    """What, to whom, on which channels, when."""

    notification_type = SelectField('Kind', choices=mailing_types())
    template = StringField('Template', default='info', validators=[
        DataRequired(), Regexp(TEMPLATE_NAME, message='lower-case letters, digits, - and _'),
    ])
    locale = StringField('Locale', default='ru', validators=[
        DataRequired(), Regexp(LOCALE, message='a locale such as ru or en-GB'),
    ])
    channels = SelectMultipleField('Channels', default=['email'], validators=[
        DataRequired(message='choose at least one channel'),
    ])
    template_fields = TextAreaField(
        'Template fields (JSON)', default='{"title": "", "text": ""}', validators=[Length(max=MAX_SAMPLE_LENGTH)],
    )
    audience = RadioField('Audience', choices=AUDIENCES, default=EVERY_USER)
    segment = StringField('Segment', validators=[Optional(), Length(max=MAX_SEGMENT_LENGTH)])
    user_file = FileField('User ids (CSV, the first column)')
    timing = RadioField('When', choices=TIMINGS, default=TimingKind.now)
    send_at = DateTimeLocalField('At', format=DATETIME_FORMAT, validators=[Optional()])
    cron = StringField('Cron', validators=[Optional(), Length(max=MAX_CRON_LENGTH)])
    timezone = StringField('Time zone', default=DEFAULT_TIMEZONE, validators=[
        DataRequired(), Length(max=MAX_TIMEZONE_LENGTH),
    ])


def _user_file(form: MailingForm, previous_user_ids: list[str] | None) -> dict[str, Any]:
    upload = form.user_file.data
    if upload is not None and upload.filename:
        try:
            return {'user_ids': user_ids_from_file(upload.read())}
        except AudienceFileError as error:
            raise PlanError('user_file', str(error)) from None
    if previous_user_ids is None:
        raise PlanError('user_file', 'upload a CSV file of user ids')
    return {'user_ids': previous_user_ids}


def _audience(form: MailingForm, previous_user_ids: list[str] | None) -> dict[str, Any]:
    if form.audience.data == USER_FILE:
        return _user_file(form, previous_user_ids)
    if form.audience.data != SEGMENT:
        return {SEGMENT: EVERYONE}
    segment = (form.segment.data or '').strip()
    if not segment:
        raise PlanError(SEGMENT, 'name the segment')
    return {SEGMENT: segment}


def _timing(form: MailingForm) -> Timing:
    zone_name = (form.timezone.data or '').strip()
    if not is_valid_timezone(zone_name):
        raise PlanError('timezone', 'not an IANA time zone (like Europe/Moscow)')
    if form.timing.data == TimingKind.cron:
        cron = (form.cron.data or '').strip()
        if not is_valid_cron(cron):
            raise PlanError('cron', 'not a cron expression (five fields, like "0 10 * * 1")')
        return Timing(kind=TimingKind.cron, cron=cron, timezone=zone_name)
    if form.timing.data != TimingKind.at:
        return Timing(timezone=zone_name)
    wall_clock = form.send_at.data
    if wall_clock is None:
        raise PlanError('send_at', 'choose the date and time')
    send_at = wall_clock.replace(tzinfo=ZoneInfo(zone_name)).astimezone(dt.timezone.utc)
    return Timing(kind=TimingKind.at, send_at=send_at, timezone=zone_name)


def plan_from_form(form: MailingForm, previous_user_ids: list[str] | None = None) -> MailingPlan:
    """The plan of a validated form; :class:`PlanError` says which field is wrong.

    ``previous_user_ids`` is the audience file of the draft being edited, kept unless another is uploaded.
    """
    try:
        template_fields = sample_fields(form.template_fields.data or '')
    except PreviewFieldsError as error:
        raise PlanError('template_fields', str(error)) from None
    return MailingPlan(
        notification_type=str(form.notification_type.data),
        template=str(form.template.data),
        locale=str(form.locale.data),
        channels=tuple(form.channels.data or ()),
        audience=_audience(form, previous_user_ids),
        template_fields=template_fields,
        timing=_timing(form),
    )


def fill_form(form: MailingForm, plan: MailingPlan) -> None:
    """Show a stored plan in the form (editing a draft)."""
    form.notification_type.data = plan.notification_type
    form.template.data = plan.template
    form.locale.data = plan.locale
    form.channels.data = list(plan.channels)
    form.template_fields.data = json.dumps(dict(plan.template_fields), ensure_ascii=False, indent=2)
    segment = str(plan.audience.get(SEGMENT, EVERYONE))
    if plan.audience.get('user_ids') is not None:
        form.audience.data = USER_FILE
    else:
        form.audience.data = EVERY_USER if segment == EVERYONE else SEGMENT
        form.segment.data = '' if segment == EVERYONE else segment
    timing = plan.timing
    form.timing.data = timing.kind
    form.timezone.data = timing.timezone
    form.cron.data = timing.cron or ''
    if timing.send_at is not None:
        form.send_at.data = timing.send_at.astimezone(ZoneInfo(timing.timezone)).replace(tzinfo=None)
