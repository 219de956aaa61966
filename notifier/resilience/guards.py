"""What the breakers guard: the user directory and each channel's provider.

A guard counts the failures that say the dependency is unwell (the
directory: unreachable, timed out, 5xx, garbled; a channel: a *temporary*
failure; a permanent one is the provider answering about one recipient, so
it counts as an answer), refuses calls at once while its breaker is open,
and knows how to probe: the directory with a cheap read, a channel by
letting one message through.
"""

from collections.abc import Callable, Mapping, Sequence
from typing import ClassVar, Protocol, TypeVar, cast

from marshmallow import Schema

from notifier.channels.base import Channel, MayBegin, OutgoingMessage, SendResult, SendStatus
from notifier.models import BreakerPhase
from notifier.ratelimit import USERS_DIRECTORY, Limiter
from notifier.resilience.breaker import CircuitBreaker
from notifier.users import DirectoryUnavailableError, UserDirectory, UserPage, UserProfile

Answer = TypeVar('Answer')


class Guard(Protocol):
    """A breaker and the probe that tests whether its dependency recovered."""

    @property
    def breaker(self) -> CircuitBreaker:
        """The breaker of the guarded dependency."""

    def probe(self) -> None:
        """Test an open breaker's dependency (the breaker records what happened)."""


class PingableDirectory(UserDirectory, Protocol):
    """A directory with a cheap call that only tells whether it answers."""

    def ping(self) -> None:
        """Raise :class:`DirectoryUnavailableError` when the directory does not answer."""


class DirectoryCircuitOpenError(DirectoryUnavailableError):
    """The directory's breaker is open: the call was not even tried."""


class GuardedDirectory:
    """A user directory behind a breaker and the ``users.directory`` rate limit (with its slow start)."""

    def __init__(self, directory: PingableDirectory, breaker: CircuitBreaker, limiter: Limiter | None) -> None:
        """Guard ``directory``; its request rate follows ``limiter``'s ``users.directory``, scaled by the breaker."""
        self._directory = directory
        self._breaker = breaker
        self._limiter = limiter
        if limiter is not None:
            limiter.slow_start(USERS_DIRECTORY, breaker.rate_factor)

    @property
    def breaker(self) -> CircuitBreaker:
        """The directory's breaker."""
        return self._breaker

    def get(self, user_id: str) -> UserProfile | None:
        """One user (see :class:`notifier.users.UserDirectory`)."""
        return self._call(lambda: self._directory.get(user_id))

    def get_many(self, user_ids: Sequence[str]) -> Mapping[str, UserProfile]:
        """The known users among ``user_ids``."""
        return self._call(lambda: self._directory.get_many(user_ids))

    def page(self, segment: str, after: str | None, limit: int) -> UserPage:
        """One keyset page of a segment."""
        return self._call(lambda: self._directory.page(segment, after, limit))

    def probe(self) -> None:
        """Ask the directory the cheapest question; its answer closes the probe."""
        if not self._breaker.start_probe():
            return
        try:
            self._directory.ping()
        except DirectoryUnavailableError as error:
            self._breaker.failed(str(error))
        else:
            self._breaker.succeeded()

    def _call(self, action: Callable[[], Answer]) -> Answer:
        if not self._breaker.allows_calls:
            raise DirectoryCircuitOpenError('the user directory is failing: its circuit breaker is open')
        if self._limiter is not None:
            self._limiter.acquire(USERS_DIRECTORY)
        try:
            answer = action()
        except DirectoryUnavailableError as error:
            self._breaker.failed(str(error))
            raise
        self._breaker.succeeded()
        return answer


class GuardedChannel(Channel):
    """A channel behind its provider's breaker; :func:`guard_channel` makes one with the channel's class data."""

    name: ClassVar[str] = 'guarded'
    settings_schema: ClassVar[type[Schema]] = Schema

    def __init__(self, channel: Channel, breaker: CircuitBreaker) -> None:
        """Guard ``channel`` (same settings, same provider)."""
        super().__init__(channel.settings)
        self._channel = channel
        self._breaker = breaker

    @property
    def breaker(self) -> CircuitBreaker:
        """The provider's breaker."""
        return self._breaker

    def send(self, message: OutgoingMessage) -> SendResult:
        """Send through the channel, unless its breaker is open; count temporary failures."""
        if not self._breaker.allows_calls:
            return SendResult.temporary('the {0} provider is failing: its circuit breaker is open'.format(self.name))
        return self._counted(self._channel.send(message))

    def send_many(self, messages: Sequence[OutgoingMessage], may_begin: MayBegin) -> list[SendResult]:
        """While the breaker is closed, the channel's own ``send_many`` (it may overlap the sends), counted after.

        Otherwise one at a time through :meth:`send`: a probe lets one message through, an open breaker none.
        """
        if self._breaker.phase != BreakerPhase.closed:
            return super().send_many(messages, may_begin)
        return [self._counted(outcome) for outcome in self._channel.send_many(messages, may_begin)]

    def probe(self) -> None:
        """Let the next message through: its send decides."""
        self._breaker.start_probe()

    def close(self) -> None:
        """Close the guarded channel."""
        self._channel.close()

    def _counted(self, outcome: SendResult) -> SendResult:
        if outcome.status == SendStatus.temporary_failure:
            self._breaker.failed(outcome.detail)
        else:
            self._breaker.succeeded()  # sent, or refused for this recipient only: the provider answers
        return outcome


def guard_channel(channel: Channel, breaker: CircuitBreaker) -> GuardedChannel:
    """``channel`` behind ``breaker``; the guard has the channel's name, settings schema and address kind."""
    channel_class = type(channel)
    guarded_class = type('Guarded{0}'.format(channel_class.__name__), (GuardedChannel,), {
        'name': channel_class.name,
        'settings_schema': channel_class.settings_schema,
        'address_kind': channel_class.address_kind,
        '__module__': __name__,
    })
    return cast(GuardedChannel, guarded_class(channel, breaker))
