"""When something repeats, as the schedules API and periodic events take it: cron in a zone, or an interval."""

from typing import Final

from marshmallow import ValidationError

from notifier.cron import is_valid_cron, is_valid_timezone

MAX_CRON_LENGTH: Final = 128
MAX_TIMEZONE_LENGTH: Final = 64
#: Ten years: longer periods and lateness are surely a mistake (and overflow date arithmetic).
MAX_PERIOD_SECONDS: Final = 315360000


def cron_expression(expression: str | None) -> None:
    """A five-field cron expression (or nothing)."""
    if expression is not None and not is_valid_cron(expression):
        raise ValidationError('not a cron expression (five fields, like "0 9 * * *")')


def iana_timezone(name: str | None) -> None:
    """An IANA time zone name (or nothing)."""
    if name is not None and not is_valid_timezone(name):
        raise ValidationError('not an IANA time zone (like Europe/Moscow)')
