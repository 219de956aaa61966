"""Declarative base and the column types every model shares."""

import datetime as dt
import uuid
from types import MappingProxyType

from sqlalchemy import DateTime, MetaData
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.types import TypeDecorator

NAMING_CONVENTION = MappingProxyType({
    'ix': 'ix_%(column_0_label)s',
    'uq': 'uq_%(table_name)s_%(column_0_N_name)s',
    'ck': 'ck_%(table_name)s_%(constraint_name)s',
    'fk': 'fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s',
    'pk': 'pk_%(table_name)s',
})


class Base(DeclarativeBase):
    """Base of every model; names constraints so migrations are stable."""

    metadata = MetaData(naming_convention=dict(NAMING_CONVENTION))


class UTCDateTime(TypeDecorator[dt.datetime]):
    """An aware UTC datetime on every backend (SQLite keeps no time zone)."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, moment: dt.datetime | None, dialect: Dialect) -> dt.datetime | None:
        """Store naive UTC."""
        if moment is None:
            return None
        if moment.tzinfo is None:
            raise ValueError('naive datetime given to a UTC column')
        return moment.astimezone(dt.timezone.utc).replace(tzinfo=None)

    def process_result_value(self, stored: dt.datetime | None, dialect: Dialect) -> dt.datetime | None:
        """Read back as aware UTC."""
        if stored is None:
            return None
        return stored.replace(tzinfo=dt.timezone.utc)


def utcnow() -> dt.datetime:
    """The current moment, aware, in UTC."""
    return dt.datetime.now(dt.timezone.utc)


def new_id() -> str:
    """A random identifier for a new row."""
    return str(uuid.uuid4())
