"""What the stages of a process share, built once from the settings, and the context of each call."""

from collections.abc import Mapping
from dataclasses import dataclass
from functools import partial

from sqlalchemy.orm import Session

from notifier.channels.base import Channel
from notifier.extensions import db
from notifier.pipeline import topology, users_setup
from notifier.pipeline.context import StageContext
from notifier.preferences.unsubscribe import UnsubscribeLinks
from notifier.ratebuckets import SHARED_BURST_SECONDS, SharedBuckets
from notifier.ratelimit import Limiter, channel_send, rate_lookup
from notifier.resilience import BreakerPolicy, BreakerRecorder, CircuitBreaker, Guard, GuardedDirectory, guard_channel
from notifier.settings import Settings
from notifier.templating.store import TemplateStore
from notifier.templating.stored import template_store
from notifier.users import HttpUserDirectory, UserDirectory

#: The name of the user directory's breaker (a channel's is ``channel.<name>``).
DIRECTORY_BREAKER = 'users.directory'


@dataclass(frozen=True)
class StageDependencies:
    """The long-lived parts of a consume process."""

    settings: Settings
    channels: Mapping[str, Channel]
    templates: TemplateStore
    limiter: Limiter
    users: UserDirectory | None
    unsubscribe: UnsubscribeLinks | None
    #: The guard (circuit breaker) of each stage route whose queues depend on one (see :meth:`guard_for`).
    guards: Mapping[str, Guard]

    def close(self) -> None:
        """Close what holds a connection of its own (the shared rate buckets')."""
        self.limiter.close()

    def guard_for(self, routing_key: str) -> Guard | None:
        """The guard of a queue's routing key: its route's, or for a lane of it (``channel.email.bulk``) the route's."""
        for route, guard in self.guards.items():
            if routing_key == route or routing_key.startswith('{0}.'.format(route)):
                return guard
        return None

    def context(self, attempt: int, replayed: bool) -> StageContext:
        """The context of one stage call (inside an application context)."""
        return StageContext(
            session=db.session(),
            templates=self.templates,
            channels=self.channels,
            attempt=attempt,
            max_attempts=len(self.settings.retry_delay_seconds) + 1,
            replayed=replayed,
            sending_lease_seconds=self.settings.sending_lease,
            usual_slot_seconds=self.settings.usual_slot_seconds,
            expansion_page=self.settings.expansion_page,
            send_chunk=self.settings.send_chunk,
            limiter=self.limiter,
            users=self.users,
            unsubscribe=self.unsubscribe,
        )


def breaker_policy(settings: Settings) -> BreakerPolicy:
    """The circuit breakers' policy from ``NOTIFIER_BREAKER_*``."""
    return BreakerPolicy(
        failures=settings.breaker_failures,
        probe_seconds=settings.breaker_probe_seconds,
        slow_start_fraction=settings.breaker_slow_start_fraction,
        slow_start_seconds=settings.breaker_slow_start_seconds,
    )


def build_dependencies(settings: Settings, channels: Mapping[str, Channel]) -> StageDependencies:
    """Templates, rate limits, the user directory, the unsubscribe links and the breakers of a process.

    Each channel's provider sits behind a breaker (its queue stops when it opens, its send rate starts slow
    after), and so does the HTTP user directory (the generator's queue, the ``users.directory`` rate).
    """
    limiter = Limiter(rate_lookup(_short_session), shared=shared_buckets(settings))
    make_breaker = partial(_breaker, breaker_policy(settings), BreakerRecorder(_short_session))
    guards: dict[str, Guard] = {}
    guarded_channels: dict[str, Channel] = {}
    for channel_name, channel in channels.items():
        guarded = guard_channel(channel, make_breaker('channel.{0}'.format(channel_name)))
        limiter.slow_start(channel_send(channel_name), guarded.breaker.rate_factor)
        guards[topology.channel_route(channel_name)] = guarded
        guarded_channels[channel_name] = guarded
    users = users_setup.directory_from_settings(settings)
    if isinstance(users, HttpUserDirectory):
        users = GuardedDirectory(users, make_breaker(DIRECTORY_BREAKER), limiter)
        guards[topology.GENERATOR] = users
    return StageDependencies(
        settings=settings,
        channels=guarded_channels,
        templates=template_store(settings),
        limiter=limiter,
        users=users,
        unsubscribe=users_setup.links_from_settings(settings),
        guards=guards,
    )


def shared_buckets(settings: Settings) -> SharedBuckets | None:
    """The rate buckets every process shares on PostgreSQL; ``None`` on SQLite (one process, its own buckets)."""
    url = settings.resolved_database_url
    if not url.startswith('postgresql'):
        return None
    return SharedBuckets(url, burst=SHARED_BURST_SECONDS)


def _breaker(policy: BreakerPolicy, recorder: BreakerRecorder, name: str) -> CircuitBreaker:
    breaker = CircuitBreaker(name, policy)
    breaker.listen(recorder.record)
    return breaker


def _short_session() -> Session:
    return Session(db.engine)
