"""A fake clock, a fake broker connection and a fake directory for the state-machine tests."""

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from notifier.users import DirectoryUnavailableError, UserPage, UserProfile


class FakeClock:
    """Monotonic seconds that move only when told; ``sleep`` moves them too."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


@dataclass
class FakeBroker:
    """Records consume / cancel calls; timers wait in a list until the test fires them."""

    consumers: dict[str, tuple[str, int]] = field(default_factory=dict)
    log: list[str] = field(default_factory=list)
    timers: list[tuple[float, Callable[[], None]]] = field(default_factory=list)
    callbacks: dict[str, Callable[[str], None]] = field(default_factory=dict)
    _next_tag: int = 0

    def consume(self, queue: str, callback: Callable[[str], None], prefetch: int) -> str:
        self._next_tag += 1
        tag = 'ctag-{0}'.format(self._next_tag)
        self.consumers[tag] = (queue, prefetch)
        self.callbacks[queue] = callback
        self.log.append('consume {0} prefetch={1}'.format(queue, prefetch))
        return tag

    def cancel(self, consumer_tag: str) -> None:
        queue, _ = self.consumers.pop(consumer_tag)
        self.callbacks.pop(queue, None)
        self.log.append('cancel {0}'.format(queue))

    def call_later(self, seconds: float, callback: Callable[[], None]) -> None:
        self.timers.append((seconds, callback))

    def consumed(self) -> dict[str, int]:
        """Consumed queue -> prefetch."""
        return {queue: prefetch for queue, prefetch in self.consumers.values()}

    def fire_timers(self) -> list[float]:
        """Run the pending timers (those they arm wait for the next call); their delays."""
        pending = list(self.timers)
        self.timers.clear()
        for _, callback in pending:
            callback()
        return [delay for delay, _ in pending]

    def deliver(self, queue: str, message: str) -> None:
        self.callbacks[queue](message)


@dataclass
class FakeDirectory:
    """Answers from a dict, or raises while ``down``; counts calls and pings."""

    users: dict[str, UserProfile] = field(default_factory=dict)
    down: bool = False
    calls: int = 0
    pings: int = 0

    def get(self, user_id: str) -> UserProfile | None:
        self._answer()
        return self.users.get(user_id)

    def get_many(self, user_ids: Sequence[str]) -> Mapping[str, UserProfile]:
        self._answer()
        return {user_id: self.users[user_id] for user_id in user_ids if user_id in self.users}

    def page(self, segment: str, after: str | None, limit: int) -> UserPage:
        self._answer()
        return UserPage(users=tuple(self.users.values())[:limit])

    def ping(self) -> None:
        self.pings += 1
        if self.down:
            raise DirectoryUnavailableError('HTTP 503')

    def _answer(self) -> None:
        self.calls += 1
        if self.down:
            raise DirectoryUnavailableError('user directory answered HTTP 503')
