"""The service's Prometheus metrics, one object each, shared by every process.

The API, the consumers and the scheduler import the objects from here and
increment them; :mod:`notifier.observability.exposition` renders them. Under
gunicorn (several worker processes) set ``PROMETHEUS_MULTIPROC_DIR`` to an
empty directory before the processes start: prometheus-client then keeps the
values in files there and a scrape of any worker sums every worker's values.

Names follow Prometheus conventions: counters end in ``_total`` once exposed
(prometheus-client adds the suffix), durations are in seconds.
"""

from typing import Final

from prometheus_client import Counter, Gauge, Histogram

#: Latency buckets of an API request (seconds): fast reads up to a slow publish.
REQUEST_BUCKETS: Final = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)
#: Latency buckets of one channel send (seconds): a file write up to an SMTP timeout.
SEND_BUCKETS: Final = (0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60)
#: Accepted to delivered (seconds): an immediate mail in under a second up to a delayed one a day later.
LATENCY_BUCKETS: Final = (
    0.25, 0.5, 1, 2.5, 5, 10, 30, 60,
    120, 300, 600, 1800, 3600, 21600, 86400,
)
#: The label of the metrics counted per pipeline stage.
BY_STAGE: Final = ('stage',)

events_accepted = Counter(
    'notifier_events_accepted',
    'Events accepted by POST /api/v1/events (new notifications; idempotent replays are not counted)',
    ['type'],
)
api_request_seconds = Histogram(
    'notifier_api_request_seconds',
    'Time to answer an HTTP request, by route template and status code',
    ['endpoint', 'status'],
    buckets=REQUEST_BUCKETS,
)
messages_consumed = Counter(
    'notifier_messages_consumed',
    'Messages taken from a work queue and handled by a pipeline stage',
    BY_STAGE,
)
messages_retried = Counter(
    'notifier_messages_retried',
    'Messages republished to a delay queue after a temporary failure',
    BY_STAGE,
)
messages_parked = Counter(
    'notifier_messages_parked',
    'Messages moved to the parking lot (poison, permanent failure, or retries exhausted)',
    BY_STAGE,
)
send_seconds = Histogram(
    'notifier_send_seconds',
    'Time of one channel plugin send() call',
    ['channel'],
    buckets=SEND_BUCKETS,
)
stage_seconds = Histogram(
    'notifier_stage_seconds',
    'Time a pipeline stage spent on one message: its share of the stage function over its batch',
    BY_STAGE,
    buckets=SEND_BUCKETS,
)
deliveries_completed = Counter(
    'notifier_deliveries_completed',
    'Deliveries the sender finished, by channel and final state (sent, or failed and parked)',
    ['channel', 'state'],
)
delivery_latency_seconds = Histogram(
    'notifier_delivery_latency_seconds',
    'From accepting a notification (created_at) to its delivery marked sent; '
    'usual and delayed notifications include their intended wait',
    ['channel', 'urgency', 'scale'],
    buckets=LATENCY_BUCKETS,
)
websockets_open = Gauge(
    'notifier_websockets_open',
    'WebSockets open on /ws (summed over the live API processes)',
    multiprocess_mode='livesum',
)
