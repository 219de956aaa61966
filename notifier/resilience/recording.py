"""Every breaker change is logged and written to ``breaker_states`` (one row per breaker and process)."""

import logging
import os
import socket
from collections.abc import Callable

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from notifier.models import BreakerPhase, BreakerState
from notifier.models.base import utcnow
from notifier.resilience.breaker import BreakerChange

logger = logging.getLogger(__name__)

MAX_HOLDER = 128
MAX_DETAIL = 1000


def this_process() -> str:
    """``host:pid``, the holder of this process's breakers."""
    return '{0}:{1}'.format(socket.gethostname(), os.getpid())[-MAX_HOLDER:]


class BreakerRecorder:
    """Logs a change and upserts its row; a database that does not answer costs a warning, never the change."""

    def __init__(self, session_factory: Callable[[], Session], holder: str | None = None) -> None:
        """Write through short sessions from ``session_factory``, as ``holder`` (this process by default)."""
        self._session_factory = session_factory
        self.holder = holder or this_process()

    def record(self, change: BreakerChange) -> None:
        """Log ``change`` and write it down."""
        level = logging.WARNING if change.phase == BreakerPhase.open else logging.INFO
        logger.log(level, 'circuit breaker %s is %s: %s', change.name, change.phase, change.detail)
        try:
            with self._session_factory() as session:
                session.merge(BreakerState(
                    name=change.name,
                    holder=self.holder,
                    phase=change.phase,
                    detail=change.detail[:MAX_DETAIL],
                    changed_at=utcnow(),
                ))
                session.commit()
        except SQLAlchemyError as error:
            logger.warning('could not record circuit breaker %s as %s: %s', change.name, change.phase, error)
