"""Crash points for the fault-injection suite; inert unless ``NOTIFIER_CRASH_POINTS`` is set.

``NOTIFIER_CRASH_POINTS="sender.after_send=0.05,worker.before_ack=0.1"`` makes
the process kill itself with SIGKILL at those points with those
probabilities, the way a power cut or the OOM killer would: no ``finally``,
no ack, no cleanup. ``generator.after_publish@2`` dies the second time the
process reaches that point (a test that needs the crash at one place). Tests use it to prove that a crash anywhere loses
nothing and sends nothing twice. Never set it in production.
"""

import os
import random
import signal
from collections import Counter
from collections.abc import Mapping
from functools import cache

CRASH_POINTS_VARIABLE = 'NOTIFIER_CRASH_POINTS'
#: Times each point was reached in this process (for ``name@N``).
_reached: Counter[str] = Counter()


@cache
def _configured() -> Mapping[str, tuple[float, int]]:
    """Each point's probability, and the pass it dies at (0: any pass, by the dice)."""
    spec = os.environ.get(CRASH_POINTS_VARIABLE, '')
    points: dict[str, tuple[float, int]] = {}
    for entry in filter(None, (part.strip() for part in spec.split(','))):
        if '@' in entry:
            name, _, at_pass = entry.partition('@')
            points[name] = (1, int(at_pass))
        else:
            name, _, probability = entry.partition('=')
            points[name] = (float(probability or 1), 0)
    return points


def crash_point(name: str) -> None:
    """Die here with SIGKILL if this point is configured and the dice (or the pass count) say so."""
    configured = _configured().get(name)
    if configured is None:
        return
    probability, at_pass = configured
    if at_pass:
        _reached[name] += 1
        if _reached[name] == at_pass:
            os.kill(os.getpid(), signal.SIGKILL)
    elif random.random() < probability:  # noqa: S311 - fault injection, not security
        os.kill(os.getpid(), signal.SIGKILL)
