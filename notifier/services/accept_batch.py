"""Accepting many events at once: each with its own idempotency key and result, all in one transaction.

A service that announces many events (a catalogue import, a billing run)
sends them in one request: one transaction and one commit for all of them,
instead of a request and a commit each. Each event is judged on its own: an
invalid one gets its field errors, a key seen before with the same body is
replayed, with another body it is a conflict; the valid new ones are stored.
Two batches racing on one new key: the loser's commit fails, and its batch is
judged again (the key is then a replay or a conflict).
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from notifier.models import Notification
from notifier.services.accept import Intake, new_notification, request_hash
from notifier.services.announcements import insert_with_outbox
from notifier.services.companions import add_companions


class EntryStatus:
    """What became of one event of a batch."""

    accepted: Final = 'accepted'
    replayed: Final = 'replayed'
    conflict: Final = 'conflict'
    invalid: Final = 'invalid'


@dataclass(frozen=True)
class BatchEntry:
    """One event of a batch: its key, the body as sent, and the event if it validated (else its errors)."""

    idempotency_key: str
    raw: Any
    event: Mapping[str, Any] | None
    errors: Mapping[str, Any] | None = None


@dataclass(frozen=True)
class EntryResult:
    """One event's result: its status, and its notification unless it was invalid or a conflict."""

    status: str
    notification: Notification | None = None
    errors: Mapping[str, Any] | None = None


#: Commits tried before a batch that keeps racing with another is given up (the request is a 500, safe to retry).
COMMIT_TRIES = 2


def accept_batch(session: Session, entries: Sequence[BatchEntry], intake: Intake) -> list[EntryResult]:
    """Store the batch's valid new events in one transaction; one result per entry, in order.

    The new notifications and their outbox rows go in with one multi-row ``INSERT`` each.
    """
    for attempt in range(1, COMMIT_TRIES + 1):
        judged = _judged(session, entries, intake)
        try:
            _store(session, entries, judged, intake)
        except IntegrityError:
            session.rollback()
            if attempt == COMMIT_TRIES:
                raise
        else:
            return judged
    raise AssertionError('unreachable')


def _store(session: Session, entries: Sequence[BatchEntry], judged: Sequence[EntryResult], intake: Intake) -> None:
    """The accepted entries' notifications and outbox rows (one multi-row ``INSERT`` each), their companions; commit."""
    accepted = [
        (entry, outcome.notification)
        for entry, outcome in zip(entries, judged)
        if outcome.status == EntryStatus.accepted and outcome.notification is not None and entry.event is not None
    ]
    insert_with_outbox(session, [notification for _, notification in accepted])
    for entry, notification in accepted:
        audience = entry.event['meta'].get('audience') if entry.event is not None else None
        add_companions(session, notification, audience, local_directory=intake.local_directory)
    session.commit()


def _judged(session: Session, entries: Sequence[BatchEntry], intake: Intake) -> list[EntryResult]:
    keys = [entry.idempotency_key for entry in entries]
    known = {
        notification.idempotency_key: notification
        for notification in session.scalars(select(Notification).where(Notification.idempotency_key.in_(keys)))
    }
    return [_judge(entry, known, intake) for entry in entries]


def _judge(entry: BatchEntry, known: dict[str | None, Notification], intake: Intake) -> EntryResult:
    if entry.event is None:
        return EntryResult(EntryStatus.invalid, errors=entry.errors)
    body_hash = request_hash(entry.raw)
    found = known.get(entry.idempotency_key)
    if found is not None:
        if found.request_hash != body_hash:
            return EntryResult(EntryStatus.conflict)
        return EntryResult(EntryStatus.replayed, found)
    notification = new_notification(entry.event, body_hash, entry.idempotency_key, intake.default_locale)
    known[entry.idempotency_key] = notification  # the same key later in the batch replays or conflicts it
    return EntryResult(EntryStatus.accepted, notification)
