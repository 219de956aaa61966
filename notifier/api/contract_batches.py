"""The contract of ``POST /api/v1/events/batch``: many events in one request, one result each."""

from collections.abc import Mapping
from types import MappingProxyType
from typing import Final

from notifier.api.contract import OK, Operation, body_of, json_answer, operation, secured
from notifier.schemas.event_batches import MAX_BATCH_EVENTS, EventBatchResultSchema, EventBatchSchema

POST_EVENT_BATCH: Final = secured(operation(
    'postEventBatch',
    'Announce up to {0} events at once: one transaction, one result per event'.format(MAX_BATCH_EVENTS),
    {
        OK: json_answer(EventBatchResultSchema, 'One result per event, in order (accepted, replayed, ...).'),
        '400': 'BadRequest',
        '413': 'TooLarge',
        '422': 'ValidationFailed',
    },
    'events',
    description=(
        'Each event carries its own `idempotency_key` and is judged on its own: an invalid event gets '
        '`invalid` with the error of each field, a key used before with the same event is `replayed`, with '
        'another event a `conflict`; the valid new events are all stored in one transaction. Periodic events '
        'are posted one at a time to `POST /api/v1/events`. A malformed envelope (no `events`, more than '
        '{0}, an entry without its key) is a 422 for the whole request.'.format(MAX_BATCH_EVENTS)
    ),
    requestBody={'required': True, 'content': body_of(EventBatchSchema)},
))

BATCH_OPERATIONS: Mapping[str, Mapping[str, Operation]] = MappingProxyType({
    'api.post_event_batch': MappingProxyType({'post': POST_EVENT_BATCH}),
})
