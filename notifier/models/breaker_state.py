"""The last known state of each circuit breaker, as each process reports it.

A breaker lives in the memory of the process that uses it (each consumer
judges its own provider); this table is where every process writes each
state change, so that an operator sees them all in one place (the admin
panel's operations page, ``/metrics``). A row per (breaker, process).
"""

import datetime as dt
from typing import Final

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from notifier.models.base import Base, UTCDateTime, utcnow


class BreakerPhase:
    """The states of a circuit breaker."""

    closed: Final = 'closed'  # healthy: calls go through at the configured rate
    open: Final = 'open'  # failing: consumers that depend on it stopped consuming
    probing: Final = 'probing'  # a probe call is allowed to test recovery
    recovering: Final = 'recovering'  # slow start: the rate ramps up from a fraction


class BreakerState(Base):
    """One process's breaker, as of its last state change."""

    __tablename__ = 'breaker_states'

    name: Mapped[str] = mapped_column(String(128), primary_key=True)
    #: ``host:pid`` of the process that holds the breaker.
    holder: Mapped[str] = mapped_column(String(128), primary_key=True)
    phase: Mapped[str] = mapped_column(String(16), default=BreakerPhase.closed)
    #: Why it changed: the last failure, or how far the slow start got.
    detail: Mapped[str | None] = mapped_column(String(1000))
    changed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
