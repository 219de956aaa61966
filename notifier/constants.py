"""Named constants shared across the service."""

from typing import Final

DEFAULT_LOCALE: Final = 'ru'
BEARER_PREFIX: Final = 'Bearer '

#: Our own attempt counter (never read the count from ``x-death``).
ATTEMPT_HEADER: Final = 'x-notifier-attempt'
#: Why a message was parked, set on parking-lot messages.
PARK_REASON_HEADER: Final = 'x-notifier-park-reason'
#: The stage that parked a message.
PARKED_BY_HEADER: Final = 'x-notifier-parked-by'
#: Set by ``notifier dlq requeue``: the operator asks for another try of a failed delivery.
REPLAY_HEADER: Final = 'x-notifier-replay'
#: Which delay tier a retried message waits in. Not ``x-`` prefixed on purpose: a headers
#: exchange with ``x-match: all`` ignores ``x-`` headers, so such a binding would match every tier.
DELAY_TIER_HEADER: Final = 'notifier-delay'

#: How long the API waits for a publisher confirm before leaving the row to the relay.
API_PUBLISH_TIMEOUT_SECONDS: Final = 2.0
#: An outbox row younger than this is left to the writer that wrote it. None: the API commits and the relay
#: publishes at once (woken by PostgreSQL, polling on SQLite); the scheduler publishes its own rows right after
#: its commit and may race a relay, and a message published twice is harmless (every stage is idempotent).
OUTBOX_GRACE_SECONDS: Final = 0
#: How many outbox rows one relay pass publishes.
OUTBOX_BATCH_SIZE: Final = 200
#: After this many publishes that the broker refused (unroutable, nacked, unencodable), a row is set
#: aside with its reason and the relay stops trying it (``notifier outbox retry`` puts it back).
OUTBOX_MAX_ATTEMPTS: Final = 20
#: How much of a publish error an outbox row keeps.
OUTBOX_ERROR_LENGTH: Final = 1000

MAX_FIELDS: Final = 100
MAX_FIELD_LENGTH: Final = 10000
MAX_KEY_LENGTH: Final = 200
