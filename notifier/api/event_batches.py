"""``POST /api/v1/events/batch``: many events in one request, one transaction, one result each."""

from collections.abc import Mapping, Sequence
from http import HTTPStatus
from types import MappingProxyType
from typing import Any, Final

from flask import Response, jsonify
from marshmallow import ValidationError

from notifier.api.errors import ApiError, field_errors
from notifier.api.events import EVENT_SCHEMA, json_object
from notifier.extensions import db
from notifier.observability import metrics
from notifier.schemas.event_batches import EventBatchResultSchema, EventBatchSchema
from notifier.services.accept import Intake
from notifier.services.accept_batch import BatchEntry, EntryResult, EntryStatus, accept_batch
from notifier.settings import settings_of

BATCH_SCHEMA = EventBatchSchema()
OUTCOME_SCHEMA = EventBatchResultSchema()
KEY = 'idempotency_key'
PERIODIC_ONE_BY_ONE: Final = MappingProxyType({
    'meta': {'periodic': ['a periodic event becomes a schedule: post it to /api/v1/events']},
})


def _entry(entry: Mapping[str, Any]) -> BatchEntry:
    """One event validated on its own: its errors do not fail the others."""
    raw = entry['event']
    try:
        event = EVENT_SCHEMA.load(raw)
    except ValidationError as error:
        return BatchEntry(entry[KEY], raw, None, field_errors(error))
    if event['meta']['periodic']:
        return BatchEntry(entry[KEY], raw, None, PERIODIC_ONE_BY_ONE)
    return BatchEntry(entry[KEY], raw, event)


def _answer(index: int, entry: BatchEntry, judged: EntryResult) -> dict[str, Any]:
    notification = judged.notification
    return {
        'index': index,
        KEY: entry.idempotency_key,
        'status': judged.status,
        'id': notification.id if notification is not None else None,
        'notification_status': notification.status if notification is not None else None,
        'errors': judged.errors,
    }


def _counted(outcomes: Sequence[EntryResult]) -> dict[str, int]:
    """How many of each status (and a metric per accepted event)."""
    for counted in outcomes:
        if counted.status == EntryStatus.accepted and counted.notification is not None:
            metrics.events_accepted.labels(type=counted.notification.type).inc()
    statuses = [outcome.status for outcome in outcomes]
    return {
        'accepted': statuses.count(EntryStatus.accepted),
        'replayed': statuses.count(EntryStatus.replayed),
        'conflicts': statuses.count(EntryStatus.conflict),
        'invalid': statuses.count(EntryStatus.invalid),
    }


def post_event_batch() -> Response:
    """Accept up to MAX_BATCH_EVENTS events; 200 with each one's result (a wrong envelope is a 422)."""
    try:
        batch = BATCH_SCHEMA.load(json_object())
    except ValidationError as error:
        raise ApiError(
            HTTPStatus.UNPROCESSABLE_ENTITY, 'validation_failed', 'the batch has invalid fields', field_errors(error),
        )
    entries = [_entry(entry) for entry in batch['events']]
    outcomes = accept_batch(db.session(), entries, _intake())
    pairs = enumerate(zip(entries, outcomes))
    answers = [_answer(index, entry, judged) for index, (entry, judged) in pairs]
    return jsonify(OUTCOME_SCHEMA.dump({'results': answers, **_counted(outcomes)}))


def _intake() -> Intake:
    settings = settings_of()
    return Intake(settings.default_locale, local_directory=not settings.users_url)
