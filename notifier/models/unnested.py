"""Many rows as ``unnest(arrays)`` on PostgreSQL: one short statement text for any count of rows.

A multi-row ``VALUES`` has a placeholder per value: 100 events of a batch made a
statement of 1,900 placeholders, too long for the driver's cache of converted
statements, so psycopg split it again on every request (a third of the API's CPU
on the batch endpoint). One array parameter per column keeps the text the same
for every batch. JSON columns travel as arrays of their text and are cast back.
"""

import json
from collections.abc import Mapping, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.sql.selectable import TableValuedAlias


def unnested_rows(types: Mapping[str, Any], alias: str) -> TableValuedAlias:
    """``unnest(:a, :b, …) AS alias(a, b, …)``: one array parameter per column, named and typed as ``types`` says."""
    arrays = [_array(name, column_type) for name, column_type in types.items()]
    return sa.func.unnest(*arrays).table_valued(*types).render_derived(name=alias)


def unnested_insert(table: sa.Table, columns: Sequence[str]) -> sa.Insert:
    """``INSERT INTO table (columns) SELECT … FROM unnest(:column, …)``; bind :func:`unnested_values` to it."""
    given = unnested_rows({name: _carried_type(table, name) for name in columns}, 'given')
    read = [_read(table, given, name) for name in columns]
    return sa.insert(table).from_select(list(columns), sa.select(*read))


Rows = Sequence[Mapping[str, Any]]


def unnested_values(table: sa.Table, columns: Sequence[str], rows: Rows) -> dict[str, list[Any]]:
    """The rows as one list per column (a JSON column's values as their text)."""
    arrays: dict[str, list[Any]] = {}
    for name in columns:
        column_values = [row[name] for row in rows]
        arrays[name] = [_json_text(each) for each in column_values] if _is_json(table, name) else column_values
    return arrays


def _json_text(column_value: Any) -> str | None:
    return None if column_value is None else json.dumps(column_value, ensure_ascii=False)


def _array(name: str, column_type: Any) -> sa.BindParameter[Any]:
    return sa.bindparam(name, type_=postgresql.ARRAY(column_type))


def _read(table: sa.Table, given: TableValuedAlias, name: str) -> sa.ColumnElement[Any]:
    """A column of the unnested rows as the table's column takes it (JSON cast back from its text)."""
    column = given.c[name]
    return sa.cast(column, table.c[name].type) if _is_json(table, name) else column


def _is_json(table: sa.Table, name: str) -> bool:
    return isinstance(table.c[name].type, sa.JSON)


def _carried_type(table: sa.Table, name: str) -> Any:
    """The type a column's values travel as (a JSON column's as text: psycopg has no json[] to send)."""
    return sa.Text() if _is_json(table, name) else table.c[name].type
