"""Exponential backoff with jitter, for reconnecting to RabbitMQ or the database."""

import random

INITIAL_SECONDS = 0.5
MAXIMUM_SECONDS = 30.0
FACTOR = 2.0
JITTER_FLOOR = 0.75


class Backoff:
    """Delays of 0.5 s, 1 s, 2 s … up to 30 s, each shortened by up to a quarter at random."""

    def __init__(self, initial: float = INITIAL_SECONDS, maximum: float = MAXIMUM_SECONDS) -> None:
        """Start at ``initial``."""
        self._initial = initial
        self._maximum = maximum
        self._next = initial

    def reset(self) -> None:
        """After a success: start again from the initial delay."""
        self._next = self._initial

    def next_delay(self) -> float:
        """The delay to wait now; the following one is longer."""
        delay = self._next
        self._next = min(self._maximum, self._next * FACTOR)
        return delay * random.uniform(JITTER_FLOOR, 1)  # noqa: S311 - jitter, not security
