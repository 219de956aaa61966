"""``column IN (values)`` written so a hot statement keeps one text whatever the number of values."""

from collections.abc import Collection
from typing import Any

from sqlalchemy import ColumnElement, any_, literal
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import QueryableAttribute, Session


def one_of(
    session: Session, column: ColumnElement[Any] | QueryableAttribute[Any], wanted: Collection[Any],
) -> ColumnElement[bool]:
    """``column = ANY(:array)`` on PostgreSQL, ``column IN (…)`` elsewhere.

    An ``IN`` list is a new statement text for each count of values: the driver converts it again and the
    server plans it again. An array parameter keeps one text for every batch.
    """
    if session.get_bind().dialect.name == 'postgresql':
        return column == any_(literal(list(wanted), type_=postgresql.ARRAY(column.type)))
    return column.in_(list(wanted))
