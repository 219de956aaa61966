"""What every log line of the current request or message is about: request, notification, delivery, stage.

The values live in one :class:`contextvars.ContextVar`, so each thread (an
API worker thread, a consumer's connection thread) and each request sees its
own. The API binds the request id from ``X-Request-ID`` (or a new one); the
consumer runner binds the one a message carries in its AMQP headers, and
passes it on with every message it publishes, so one grep follows a
notification from the API through every stage.
"""

import re
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar, Token
from types import MappingProxyType
from typing import Final

#: The HTTP header a caller may send (and always gets back).
HTTP_REQUEST_ID_HEADER: Final = 'X-Request-ID'
#: The AMQP header that carries the request id from stage to stage.
REQUEST_ID_HEADER: Final = 'x-notifier-request-id'
#: The fields a log line may carry, in the order a text line shows them.
FIELDS: Final = ('request_id', 'notification_id', 'delivery_id', 'stage')
#: An id from outside is kept only when it is this short and made of these characters.
MAX_ID_LENGTH: Final = 128
_SAFE_ID = re.compile(r'[A-Za-z0-9._:@/+=-]+')

LogFields = Mapping[str, str]
_EMPTY: LogFields = MappingProxyType({})
_bound: ContextVar[LogFields] = ContextVar('notifier_log_fields', default=_EMPTY)


def new_request_id() -> str:
    """A fresh request id (32 hex digits)."""
    return uuid.uuid4().hex


def clean_id(candidate: object) -> str | None:
    """An id from outside (a header, a message body) if it is safe to log and pass on, else None.

    Anything longer, not text, or with spaces, quotes or line breaks (which could forge
    log lines) is refused: the caller replaces it or leaves it out.
    """
    if isinstance(candidate, bytes):
        candidate = candidate.decode('ascii', errors='replace')
    if not isinstance(candidate, str) or len(candidate) > MAX_ID_LENGTH:
        return None
    return candidate if _SAFE_ID.fullmatch(candidate) else None


def log_fields() -> LogFields:
    """The fields bound now (absent ones are not in the mapping)."""
    return _bound.get()


def current_request_id() -> str | None:
    """The request id bound now, if any."""
    return _bound.get().get('request_id')


def bind(**fields: str | None) -> Token[LogFields]:
    """Add fields to the current context (None values are left out); undo with :func:`unbind`."""
    merged = dict(_bound.get())
    known = {name: field for name, field in fields.items() if field is not None}
    merged.update({name: str(field) for name, field in known.items()})
    return _bound.set(MappingProxyType(merged))


def unbind(token: Token[LogFields]) -> None:
    """Restore the fields as they were before the matching :func:`bind`."""
    _bound.reset(token)


@contextmanager
def bound(**fields: str | None) -> Iterator[LogFields]:
    """Bind fields for the duration of a block."""
    token = bind(**fields)
    try:
        yield _bound.get()
    finally:
        unbind(token)
