"""The delivery rows of a batch, written with one statement each (Core SQL on the hot path).

The worker creates a batch's rows with one multi-row ``INSERT … ON CONFLICT
DO NOTHING`` and reads their states back with one ``SELECT``; the sender
claims a batch with one ``UPDATE … WHERE id IN (…) RETURNING id``. The ORM
stays for everything that is not per message.
"""

import datetime as dt
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Table, bindparam, literal, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from notifier.models import Delivery, DeliveryState
from notifier.models.membership import one_of
from notifier.models.unnested import unnested_rows
from notifier.preferences.rules import OPTED_OUT, opted_out_in
from notifier.preferences.snapshot import PagePreferences
from notifier.preferences.subjects import Recipient

DELIVERIES: Table = Delivery.__table__  # type: ignore[assignment]
#: New values of a row's columns.
Changes = Mapping[str, Any]


#: What a new delivery row names: its id, notification, recipient and channel.
NEW_DELIVERY_COLUMNS = ('id', 'notification_id', 'recipient', 'channel')


def insert_pending(session: Session, rows: Sequence[tuple[str, str, str, str]], now: dt.datetime) -> None:
    """Insert ``pending`` deliveries (``NEW_DELIVERY_COLUMNS`` each), leaving alone those that exist: one statement.

    On PostgreSQL the rows go as four array parameters (``INSERT … SELECT … FROM unnest(…)``): the
    statement's text is the same for every batch, so the driver does not parse a statement of several
    hundred placeholders again for each batch, as it did for a multi-row ``VALUES``.
    """
    if not rows:
        return
    columns = DELIVERIES.c
    fixed = {
        'state': literal(DeliveryState.pending, columns.state.type),
        'attempts': literal(0, columns.attempts.type),
        'created_at': literal(now, columns.created_at.type),
        'updated_at': literal(now, columns.updated_at.type),
    }
    if session.get_bind().dialect.name == 'postgresql':
        new = unnested_rows({name: columns[name].type for name in NEW_DELIVERY_COLUMNS}, 'new')
        rows_read = select(*(new.c[name] for name in NEW_DELIVERY_COLUMNS), *fixed.values())
        session.execute(
            postgresql.insert(DELIVERIES)
            .from_select([*NEW_DELIVERY_COLUMNS, *fixed], rows_read)
            .on_conflict_do_nothing(),
            {name: [row[position] for row in rows] for position, name in enumerate(NEW_DELIVERY_COLUMNS)},
        )
        return
    named_rows = [dict(zip(NEW_DELIVERY_COLUMNS, row)) for row in rows]
    session.execute(sqlite.insert(DELIVERIES).values(**fixed).on_conflict_do_nothing(), named_rows)


def states_of(session: Session, delivery_ids: Collection[str]) -> dict[str, str]:
    """The state of each delivery that exists."""
    if not delivery_ids:
        return {}
    columns = DELIVERIES.c
    wanted = one_of(session, columns.id, delivery_ids)
    found = session.execute(select(columns.id, columns.state).where(wanted))
    return {row.id: row.state for row in found}


def move(session: Session, delivery_ids: Collection[str], from_state: str, changes: Changes) -> set[str]:
    """Move the deliveries still in ``from_state``; the ids this call moved."""
    if not delivery_ids:
        return set()
    columns = DELIVERIES.c
    moved = session.execute(
        update(DELIVERIES)
        .where(one_of(session, columns.id, delivery_ids), columns.state == from_state)
        .values(**changes)
        .returning(columns.id),
    )
    return set(moved.scalars())


def fail_each(session: Session, reasons: Mapping[str, str]) -> None:
    """Mark deliveries ``failed``, each with its reason (one statement, many parameter sets)."""
    if not reasons:
        return
    statement = (
        update(DELIVERIES)
        .where(DELIVERIES.c.id == bindparam('delivery_id'))
        .values(state=DeliveryState.failed, last_error=bindparam('reason'))
    )
    session.execute(statement, [
        {'delivery_id': delivery_id, 'reason': reason} for delivery_id, reason in reasons.items()
    ])


@dataclass(frozen=True)
class OptOutCheck:
    """A pending delivery whose recipient may have opted out since the message was made."""

    delivery_id: str
    recipient: Recipient
    category: str
    channel: str


def skip_opted_out(session: Session, checks: Iterable[OptOutCheck]) -> set[str]:
    """Skip the pending deliveries whose recipients opted out (two reads per category, one update)."""
    by_category: dict[str, list[OptOutCheck]] = {}
    for each in checks:
        by_category.setdefault(each.category, []).append(each)
    opted: list[str] = []
    for category, category_checks in by_category.items():
        snapshot = PagePreferences(session, [check.recipient for check in category_checks], category)
        opted.extend(
            check.delivery_id for check in category_checks
            if opted_out_in(snapshot, check.recipient, category, check.channel)
        )
    return move(session, opted, DeliveryState.pending, {'state': DeliveryState.skipped, 'last_error': OPTED_OUT})


def claimable(now: dt.datetime, lease_seconds: float, replayed: bool) -> ColumnElement[bool]:
    """A delivery nobody holds: pending, failed when replayed, or sending with an expired lease."""
    lease_expired = now - dt.timedelta(seconds=lease_seconds)
    columns = DELIVERIES.c
    states = [columns.state == DeliveryState.pending]
    if replayed:
        states.append(columns.state == DeliveryState.failed)
    states.append((columns.state == DeliveryState.sending) & (columns.sending_since < lease_expired))
    return or_(*states)


def claim(session: Session, delivery_ids: Collection[str], now: dt.datetime, where: ColumnElement[bool]) -> set[str]:
    """Move the claimable deliveries to ``sending`` since ``now`` (the claim's fence); the ids claimed."""
    if not delivery_ids:
        return set()
    columns = DELIVERIES.c
    claimed = session.execute(
        update(DELIVERIES)
        .where(one_of(session, columns.id, delivery_ids), where)
        .values(state=DeliveryState.sending, sending_since=now, attempts=columns.attempts + 1)
        .returning(columns.id),
    )
    return set(claimed.scalars())
