"""Time and size limits on rendering a template a manager wrote.

The sandbox stops templates from reading files or reaching Python's
internals; this stops them from running for ever or filling memory: a loop
over ``range`` checks the clock at each step (nested loops too), and the
output is counted as it is produced. Either limit ends the render with a
:class:`~notifier.templating.store.TemplateError`-worthy reason.
"""

import contextvars
import time
from collections.abc import Iterable, Iterator
from typing import Final

from jinja2.sandbox import safe_range

#: A template renders within this many seconds of CPU-bound work.
RENDER_SECONDS: Final = 2.0
#: A rendered block (subject, HTML, text) is at most this many characters.
MAX_RENDERED_CHARS: Final = 1_000_000

_deadline: contextvars.ContextVar[float] = contextvars.ContextVar('notifier_render_deadline', default=float('inf'))


class RenderLimitError(Exception):
    """The render went over its time or size limit; the message says which."""


def _check_clock() -> None:
    if time.monotonic() > _deadline.get():
        raise RenderLimitError('took longer than {0:g} s to render'.format(RENDER_SECONDS))


def budgeted_range(*bounds: int) -> Iterator[int]:
    """The sandbox's ``range`` (at most 100,000 steps) that also checks the render's deadline at every step."""
    for number in safe_range(*bounds):
        _check_clock()
        yield number


def collect(chunks: Iterable[str]) -> str:
    """Join a block's output, stopping at the size limit or the deadline."""
    collected: list[str] = []
    size = 0
    for chunk in chunks:
        size += len(chunk)
        if size > MAX_RENDERED_CHARS:
            raise RenderLimitError('renders more than {0} characters'.format(MAX_RENDERED_CHARS))
        _check_clock()
        collected.append(chunk)
    return ''.join(collected)


def limit_reason(error: BaseException) -> str:
    """Why a render was stopped, for the manager who wrote the template."""
    if isinstance(error, RecursionError):
        return 'calls itself too deeply (a macro that never stops?)'
    return str(error)


class RenderBudget:
    """Starts a render's clock for the code inside ``with``."""

    def __enter__(self) -> 'RenderBudget':
        """Set the deadline of this render."""
        self._token = _deadline.set(time.monotonic() + RENDER_SECONDS)
        return self

    def __exit__(self, *exc_info: object) -> None:
        """Forget the deadline."""
        _deadline.reset(self._token)
