"""Settings from ``NOTIFIER_*`` environment variables (and an optional ``.env``).

They are validated once, when a mode starts, so a bad value is one clear
error at start and never a surprise in the middle of a mailing.
"""

import os
from collections.abc import Mapping
from pathlib import Path
from types import MappingProxyType
from typing import Literal

from dotenv import dotenv_values
from flask import Flask, current_app
from pydantic import Field, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from notifier.errors import SettingsError

ENV_PREFIX = 'NOTIFIER_'
ENV_FILE = '.env'
SETTINGS_KEY = 'notifier.settings'

_DURATION_UNITS: Mapping[str, int] = MappingProxyType({'s': 1, 'm': 60, 'h': 3600})
MAX_INTERVAL_SECONDS = 3600
DEFAULT_PORT = 8000
#: Where ``run api`` serves ``/ws`` (its own listener beside the HTTP port; docs/websocket.md).
DEFAULT_WEBSOCKET_PORT = 8001
DEFAULT_PREFETCH = 200
DEFAULT_DELIVERY_LIMIT = 50
DEFAULT_SENDING_LEASE = 60.0
DEFAULT_BROKER_HEARTBEAT = 30
MAX_BROKER_HEARTBEAT = 600
DEFAULT_EXPANSION_PAGE = 100
DEFAULT_BULK_PREFETCH = 100
DEFAULT_SEND_CHUNK = 10
MAX_SEND_CHUNK = 1000
DEFAULT_BATCH_LINGER = 0.005
MAX_BATCH_LINGER = 1.0
MAX_EXPANSION_PAGE = 500
MAX_PORT = 65535
#: gunicorn's workers and threads per worker of ``run api`` (0 workers: Flask's server, development only).
MAX_API_WORKERS = 256
DEFAULT_API_THREADS = 8
MAX_API_THREADS = 1000
MAX_PREFETCH = 10000
MAX_DELIVERY_LIMIT = 1000
MAX_USERS_TIMEOUT = 60.0
DEFAULT_USERS_TIMEOUT = 5.0
DEFAULT_BREAKER_FAILURES = 5
MAX_BREAKER_FAILURES = 1000
DEFAULT_BREAKER_PROBE_SECONDS = 10.0
DEFAULT_SLOW_START_FRACTION = 0.1
DEFAULT_SLOW_START_SECONDS = 5.0


def parse_duration(text: str) -> int:
    """Turn ``10s``, ``1m`` or ``1h`` into seconds."""
    stripped = text.strip()
    unit = _DURATION_UNITS.get(stripped[-1:])
    number = stripped[:-1] if unit else stripped
    if not number.isdigit():
        raise ValueError('{0!r} is not a duration like 10s, 1m or 1h'.format(text))
    return int(number) * (unit or 1)


#: What a bearer token may do (docs/security.md). ``NOTIFIER_API_TOKENS`` entries are ``TOKEN``
#: (every scope) or ``TOKEN:scope+scope``; RFC 6750 tokens never hold ``:``, scope names may.
API_SCOPES = ('events:write', 'read', 'users:write', 'admin')
_SCOPES_AFTER = ':'
_SCOPE_JOINER = '+'


def parse_api_tokens(text: str) -> Mapping[str, frozenset[str]]:
    """The scopes of each token of ``NOTIFIER_API_TOKENS``; a ``ValueError`` never names a token."""
    scoped: dict[str, frozenset[str]] = {}
    entries = [entry.strip() for entry in text.split(',')]
    for position, entry in enumerate(entries, start=1):
        if entry:
            token, scopes = _token_entry(position, entry)
            if scoped.get(token, scopes) != scopes:
                raise ValueError('entry {0} repeats an earlier token with other scopes'.format(position))
            scoped[token] = scopes
    return MappingProxyType(scoped)


def _token_entry(position: int, entry: str) -> tuple[str, frozenset[str]]:
    token, separator, scope_list = entry.partition(_SCOPES_AFTER)
    if not token.strip():
        raise ValueError('entry {0} has no token before {1!r}'.format(position, _SCOPES_AFTER))
    if not separator:
        return token.strip(), frozenset(API_SCOPES)
    scopes = frozenset(scope.strip() for scope in scope_list.split(_SCOPE_JOINER))
    unknown = sorted(scopes.difference(API_SCOPES))
    if unknown:
        raise ValueError('entry {0}: unknown scope {1}; the scopes are {2}'.format(
            position, ', '.join(repr(scope) for scope in unknown), ', '.join(API_SCOPES),
        ))
    return token.strip(), scopes


class Settings(BaseSettings):
    """Everything a mode needs to start; see the configuration table in README."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX,
        env_file=ENV_FILE,
        extra='ignore',
    )

    environment: Literal['development', 'production'] = 'development'
    #: Log lines as JSON or text; ``auto``: JSON in production, text in development.
    log_format: Literal['auto', 'json', 'text'] = 'auto'
    instance_dir: Path = Path('instance')
    database_url: str = ''
    #: One RabbitMQ node, or the nodes of a cluster separated by commas (a process connects to a live one).
    broker_url: str = 'amqp://guest:guest@127.0.0.1:5672/%2F'
    templates_dir: Path = Path('templates')
    default_locale: str = 'ru'
    api_tokens: str = ''
    api_host: str = '127.0.0.1'
    api_port: int = Field(default=DEFAULT_PORT, ge=1, le=MAX_PORT)
    #: gunicorn workers of ``run api``; 0: Flask's server in development, 2 x CPUs + 1 in production.
    api_workers: int = Field(default=0, ge=0, le=MAX_API_WORKERS)
    #: Threads per gunicorn worker (HTTP requests; the WebSockets of ``/ws`` are served by their own listener).
    api_threads: int = Field(default=DEFAULT_API_THREADS, ge=1, le=MAX_API_THREADS)
    secret_key: str = ''
    #: Unacked messages per consumed queue; a stage takes batches of up to half of it.
    prefetch: int = Field(default=DEFAULT_PREFETCH, ge=1, le=MAX_PREFETCH)
    #: The same for a bulk lane: an instant message waits behind at most one batch of half of these.
    bulk_prefetch: int = Field(default=DEFAULT_BULK_PREFETCH, ge=1, le=MAX_PREFETCH)
    #: How long a stage waits for more messages before it handles a batch that is not full.
    batch_linger: float = Field(default=DEFAULT_BATCH_LINGER, ge=0, le=MAX_BATCH_LINGER)
    #: Deliveries a sender claims, sends and records at a time: at most this many mails of a killed
    #: sender were accepted by the provider and not yet recorded (the duplicate window, docs/guarantees.md).
    send_chunk: int = Field(default=DEFAULT_SEND_CHUNK, ge=1, le=MAX_SEND_CHUNK)
    retry_delays: str = '10s,1m,10m,1h'
    # Every unacked message of a killed consumer counts one delivery: keep this well above
    # the number of crashes a healthy message may witness (our own attempt header counts retries).
    delivery_limit: int = Field(default=DEFAULT_DELIVERY_LIMIT, ge=1, le=MAX_DELIVERY_LIMIT)
    usual_slot: str = '1m'
    #: Recipients per page of a mailing's audience expansion (and per checkpoint).
    expansion_page: int = Field(default=DEFAULT_EXPANSION_PAGE, ge=1, le=MAX_EXPANSION_PAGE)
    sending_lease: float = Field(default=DEFAULT_SENDING_LEASE, gt=0, le=MAX_INTERVAL_SECONDS)
    #: The heartbeat a consume process asks RabbitMQ for (seconds); the broker closes a connection that
    #: misses two. Stages run off the connection's thread, so a long send does not miss them.
    broker_heartbeat: int = Field(default=DEFAULT_BROKER_HEARTBEAT, ge=1, le=MAX_BROKER_HEARTBEAT)
    scheduler_interval: float = Field(default=1.0, gt=0, le=MAX_INTERVAL_SECONDS)
    relay_interval: float = Field(default=0.5, gt=0, le=MAX_INTERVAL_SECONDS)
    #: The auth service's users collection; empty: the local ``users`` table (docs/user-directory.md).
    users_url: str = ''
    #: A read replica of the same API for batch and segment reads; its lag is tolerated (see the doc).
    users_replica_url: str = ''
    users_token: str = ''
    users_timeout: float = Field(default=DEFAULT_USERS_TIMEOUT, gt=0, le=MAX_USERS_TIMEOUT)
    #: Where recipients reach this service (unsubscribe links); empty: http://API_HOST:API_PORT.
    public_url: str = ''
    #: Shared with the cinema's site, which signs the tokens of ``/ws`` with it (docs/websocket.md).
    websocket_secret: str = ''
    #: The port of the ``/ws`` listener of ``run api`` (every worker shares it); 0: no ``/ws`` in this process.
    websocket_port: int = Field(default=DEFAULT_WEBSOCKET_PORT, ge=0, le=MAX_PORT)
    #: Circuit breakers (docs/failover.md): consecutive failures that open one, seconds between probes,
    #: and the slow start after recovery (the share of the rate it starts at, seconds per doubling).
    breaker_failures: int = Field(default=DEFAULT_BREAKER_FAILURES, ge=1, le=MAX_BREAKER_FAILURES)
    breaker_probe_seconds: float = Field(default=DEFAULT_BREAKER_PROBE_SECONDS, gt=0, le=MAX_INTERVAL_SECONDS)
    breaker_slow_start_fraction: float = Field(default=DEFAULT_SLOW_START_FRACTION, gt=0, le=1)
    breaker_slow_start_seconds: float = Field(default=DEFAULT_SLOW_START_SECONDS, gt=0, le=MAX_INTERVAL_SECONDS)

    @property
    def resolved_database_url(self) -> str:
        """The database URL, defaulting to the embedded SQLite file."""
        if self.database_url:
            return self.database_url
        return 'sqlite:///{0}'.format((self.instance_dir / 'notifier.db').resolve())

    @property
    def tokens(self) -> frozenset[str]:
        """The bearer tokens accepted by the API."""
        return frozenset(self.token_scopes)

    @property
    def token_scopes(self) -> Mapping[str, frozenset[str]]:
        """What each accepted bearer token may do (:data:`API_SCOPES`)."""
        return parse_api_tokens(self.api_tokens)

    @property
    def usual_slot_seconds(self) -> int:
        """The slot of usual notifications, in seconds."""
        return max(1, parse_duration(self.usual_slot))

    @property
    def retry_delay_seconds(self) -> tuple[int, ...]:
        """The delay of each retry tier, in seconds, first attempt first."""
        return tuple(parse_duration(delay) for delay in self.retry_delays.split(','))

    @model_validator(mode='after')
    def _lease_shorter_than_retries(self) -> 'Settings':
        # A delivery left in `sending` by a crashed sender is retried only after the lease;
        # if the retries ran out first, the message would be parked with its mail unsent.
        total = sum(self.retry_delay_seconds)
        if self.sending_lease >= total:
            raise ValueError(
                'NOTIFIER_SENDING_LEASE ({0:g}s) must be shorter than the sum of '
                'NOTIFIER_RETRY_DELAYS ({1}s)'.format(self.sending_lease, total),
            )
        return self

    @field_validator('database_url')
    @classmethod
    def _known_database(cls, url: str) -> str:
        if url and not url.startswith(('sqlite:', 'postgresql')):
            raise ValueError('only sqlite:/// and postgresql+psycopg:// URLs are supported')
        return url

    @field_validator('broker_url')
    @classmethod
    def _amqp_url(cls, url: str) -> str:
        nodes = [node.strip() for node in url.split(',') if node.strip()]
        if not nodes or not all(node.startswith(('amqp://', 'amqps://')) for node in nodes):
            raise ValueError('must be an amqp:// or amqps:// URL, or several separated by commas')
        return url

    @field_validator('users_url', 'users_replica_url', 'public_url')
    @classmethod
    def _http_url(cls, url: str) -> str:
        if url and not url.startswith(('http://', 'https://')):
            raise ValueError('must be an http:// or https:// URL')
        return url

    @field_validator('usual_slot')
    @classmethod
    def _slot(cls, slot: str) -> str:
        parse_duration(slot)
        return slot

    @field_validator('retry_delays')
    @classmethod
    def _durations(cls, delays: str) -> str:
        for delay in delays.split(','):
            parse_duration(delay)
        return delays

    @field_validator('api_tokens')
    @classmethod
    def _scoped_tokens(cls, tokens: str) -> str:
        parse_api_tokens(tokens)
        return tokens


def load_settings(**overrides: object) -> Settings:
    """Read and validate the settings, or raise one readable :class:`SettingsError`."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as error:
        raise SettingsError('bad settings: {0}'.format(_summary(error))) from None


def _summary(error: ValidationError) -> str:
    problems = []
    for issue in error.errors():
        location = [str(part) for part in issue['loc']]
        setting = '.'.join(location).upper()
        problems.append('{0}{1}: {2}'.format(ENV_PREFIX, setting, issue['msg']))
    return '; '.join(problems)


def channel_environment(channel: str) -> dict[str, str]:
    """The ``NOTIFIER_<CHANNEL>_*`` variables of one channel, lower-cased, without prefix.

    A channel plugin validates them with its own settings schema.
    """
    prefix = '{0}{1}_'.format(ENV_PREFIX, channel.upper())
    merged: dict[str, str | None] = {**dotenv_values(ENV_FILE), **os.environ}
    return {
        name[len(prefix):].lower(): env_value
        for name, env_value in merged.items()
        if name.startswith(prefix) and env_value is not None
    }


def settings_of(app: Flask | None = None) -> Settings:
    """The settings an app was built with (the current app's by default)."""
    owner = app or current_app
    settings: Settings = owner.extensions[SETTINGS_KEY]
    return settings
