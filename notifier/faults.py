"""Crash points for the fault-injection suite; inert unless ``NOTIFIER_CRASH_POINTS`` is set.

``NOTIFIER_CRASH_POINTS="sender.after_send=0.05,worker.before_ack=0.1"`` makes
the process kill itself with SIGKILL at those points with those
probabilities, the way a power cut or the OOM killer would: no ``finally``,
no ack, no cleanup. Tests use it to prove that a crash anywhere loses
nothing and sends nothing twice. Never set it in production.
"""

import os
import random
import signal
from collections.abc import Mapping
from functools import cache

CRASH_POINTS_VARIABLE = 'NOTIFIER_CRASH_POINTS'


@cache
def _configured() -> Mapping[str, float]:
    spec = os.environ.get(CRASH_POINTS_VARIABLE, '')
    points: dict[str, float] = {}
    for entry in filter(None, (part.strip() for part in spec.split(','))):
        name, _, probability = entry.partition('=')
        points[name] = float(probability or 1)
    return points


def crash_point(name: str) -> None:
    """Die here with SIGKILL if this point is configured and the dice say so."""
    probability = _configured().get(name)
    if probability and random.random() < probability:  # noqa: S311 - fault injection, not security
        os.kill(os.getpid(), signal.SIGKILL)
