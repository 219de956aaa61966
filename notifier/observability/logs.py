"""Log lines: JSON in production, readable text in development, each with its request and notification.

Every line carries the fields bound in :mod:`notifier.observability.log_context`
(request id, notification id, delivery id, stage), so ``grep NOTIFICATION_ID``
over the logs of the API and of every consumer shows one notification's path.
Passwords in URLs and bearer tokens are masked in every line, whatever logged them.
"""

import logging
import re
import sys
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any, Final, Literal, TextIO

from pythonjsonlogger.core import RESERVED_ATTRS
from pythonjsonlogger.json import JsonFormatter

from notifier.observability.log_context import FIELDS, log_fields
from notifier.settings import Settings

LogFormat = Literal['json', 'text']
TEXT_FORMAT: Final = '%(asctime)s %(levelname)s %(name)s: %(message)s%(log_context)s'
_JSON_FIELDS: Final = '%(levelname)s %(name)s %(process)d %(message)s'
_JSON_NAMES: Final = MappingProxyType({'levelname': 'level', 'name': 'logger', 'process': 'pid'})
#: Every pika failure surfaces as an exception we report with context: its own ERROR lines would
#: repeat it as multi-line noise. Alembic's INFO lines are noise at every start.
_QUIET: Final = MappingProxyType({'pika': logging.CRITICAL, 'alembic': logging.WARNING})

_URL_PASSWORD = re.compile(r'(?P<start>[A-Za-z][A-Za-z0-9+.-]*://[^:@/\s"]*):[^@/\s"]+@')
_BEARER = re.compile(r'(?P<start>Bearer\s+)[A-Za-z0-9._~+/=-]+')
MASK: Final = '***'


def redact(line: str) -> str:
    """The line with URL passwords and bearer tokens masked."""
    masked = _URL_PASSWORD.sub(r'\g<start>:{0}@'.format(MASK), line)
    return _BEARER.sub(r'\g<start>{0}'.format(MASK), masked)


class ContextFilter(logging.Filter):
    """Puts the bound context on every record a handler sees (a field given with ``extra=`` wins)."""

    def filter(self, record: logging.LogRecord) -> bool:  # noqa: WPS125 - logging's name
        """Add the fields; never drops a record."""
        bound_now = log_fields()
        for name in FIELDS:
            if getattr(record, name, None) is None:
                setattr(record, name, bound_now.get(name))
        return True


def _context_of(record: logging.LogRecord) -> Mapping[str, str]:
    found = ((name, getattr(record, name, None)) for name in FIELDS)
    return {name: str(field) for name, field in found if field is not None}


class TextFormatter(logging.Formatter):
    """``time LEVEL logger: message [request_id=… notification_id=…]`` for a developer's terminal."""

    def __init__(self) -> None:
        super().__init__(TEXT_FORMAT)

    def format(self, record: logging.LogRecord) -> str:  # noqa: WPS125 - logging's name
        """The line, with the bound context at its end."""
        context = _context_of(record)
        pairs = ' '.join('{0}={1}'.format(*pair) for pair in context.items())
        record.log_context = ' [{0}]'.format(pairs) if pairs else ''
        return redact(super().format(record))


class JsonLineFormatter(JsonFormatter):
    """One JSON object per line: time, level, logger, pid, message, the context fields, exc_info."""

    def __init__(self) -> None:
        super().__init__(
            _JSON_FIELDS,
            rename_fields=dict(_JSON_NAMES),
            timestamp='time',
            reserved_attrs=[*RESERVED_ATTRS, 'log_context'],
            json_ensure_ascii=False,
        )

    def process_log_record(self, log_data: dict[str, Any]) -> dict[str, Any]:
        """The time first; the context fields that are not known left out."""
        ordered = {'time': log_data.get('time'), **log_data}
        return {name: field for name, field in ordered.items() if field is not None}

    def serialize_log_record(self, log_data: dict[str, Any]) -> str:
        """The JSON line, masked."""
        return redact(super().serialize_log_record(log_data))


def log_format_of(settings: Settings) -> LogFormat:
    """``NOTIFIER_LOG_FORMAT``, where ``auto`` means JSON in production and text in development."""
    if settings.log_format == 'auto':
        return 'json' if settings.environment == 'production' else 'text'
    return settings.log_format


def build_handler(stream: TextIO, log_format: LogFormat) -> logging.Handler:
    """A handler that writes this service's lines to ``stream``."""
    stream_handler = logging.StreamHandler(stream)
    stream_handler.addFilter(ContextFilter())
    stream_handler.setFormatter(JsonLineFormatter() if log_format == 'json' else TextFormatter())
    return stream_handler


def configure_logging(settings: Settings) -> None:
    """Log INFO and above to stderr in the configured format.

    Like :func:`logging.basicConfig`, it leaves a root logger that already has handlers
    alone (a host application, or pytest, decides where lines go).
    """
    root = logging.getLogger()
    if not root.handlers:
        root.addHandler(build_handler(sys.stderr, log_format_of(settings)))
        root.setLevel(logging.INFO)
    for name, level in _QUIET.items():
        logging.getLogger(name).setLevel(level)
