"""Ping a pooled database connection only when it sat idle long enough to have died unseen.

``pool_pre_ping`` pinged on every checkout: a round trip per transaction,
thousands a second in a busy consumer. A connection used a moment ago is
trusted instead; if it died since, the statement fails, SQLAlchemy
invalidates the pool, and the caller recovers on the error (a consumer's
batch runs again, the sender's record is retried, the relay and the
scheduler try on their next pass). A connection idle for
:data:`IDLE_PING_SECONDS` (the API after a quiet spell, a database restarted
meanwhile) is pinged first, and a dead one is replaced before anyone uses it.
"""

import time
from typing import Any, Final

from sqlalchemy import event, exc
from sqlalchemy.pool import Pool

#: A connection idle for longer than this is pinged before it is handed out.
IDLE_PING_SECONDS: Final = 10.0
_CHECKED_IN_AT: Final = 'notifier_checked_in_at'


@event.listens_for(Pool, 'checkin')
def _remember_checkin(dbapi_connection: Any, connection_record: Any) -> None:
    connection_record.info[_CHECKED_IN_AT] = time.monotonic()


@event.listens_for(Pool, 'checkout')
def _ping_if_idle(dbapi_connection: Any, connection_record: Any, connection_proxy: Any) -> None:
    """Raising ``DisconnectionError`` here makes the pool drop this connection and hand out a new one."""
    checked_in_at = connection_record.info.get(_CHECKED_IN_AT)
    if checked_in_at is None or time.monotonic() - checked_in_at < IDLE_PING_SECONDS:
        return
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute('SELECT 1')
        cursor.close()
        # The ping opened a transaction (the driver begins one before a statement); end it, so the
        # connection is handed out idle, as the pool's reset left it (autocommit can then be switched).
        dbapi_connection.rollback()
    except Exception as error:  # noqa: B902, WPS424 - any driver's error means this connection is unusable
        raise exc.DisconnectionError(str(error)) from error
