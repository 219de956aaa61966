"""Flask extensions, created unbound here and bound in the app factory.

A PostgreSQL connection can die under a long-running process at any moment
(``pg_terminate_backend``, a failover, a restart). Every way this module ends
a session copes with that: a rollback that fails invalidates the connection
(the pool opens a fresh one and invalidates the others; ``notifier.idle_ping`` checks idle ones)
and never raises, so a consumer or the scheduler keeps running.
"""

import logging

from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy.exc import SQLAlchemyError

from notifier.models.base import Base

logger = logging.getLogger(__name__)


def discard_session() -> None:
    """Roll the session back; if the database connection is gone, drop it without another round trip.

    A connection terminated under a consumer must not raise again when the
    session is rolled back or removed: that would kill the consumer.
    """
    try:
        db.session.rollback()
    except SQLAlchemyError as error:
        logger.warning('rollback failed, discarding the connection: %s', error)
        _invalidate_session()


def end_session() -> None:
    """Roll back and close the session of this application context; never raises a database error.

    What the session did not commit is dropped, as a plain ``remove()`` would
    do; only a connection that died meanwhile is discarded instead of raising.
    """
    if not db.session.registry.has():
        return
    discard_session()
    try:
        db.session.remove()
    except SQLAlchemyError as error:
        logger.warning('closing the session failed, discarding it: %s', error)
        db.session.registry.clear()


def _invalidate_session() -> None:
    try:
        db.session().invalidate()
    except SQLAlchemyError as error:
        logger.warning('discarding the connection failed, forgetting the session: %s', error)
        db.session.registry.clear()


class Database(SQLAlchemy):
    """Flask-SQLAlchemy whose application-context teardown survives a terminated connection.

    Flask-SQLAlchemy removes the session when an application context ends; a
    rollback on a connection PostgreSQL terminated meanwhile raises from that
    teardown, which runs in the pika callback of a consumer and escaped it
    (the process exited). :func:`end_session` does the same without raising.
    """

    def _teardown_session(self, exc: BaseException | None) -> None:
        end_session()


db = Database(model_class=Base)
migrate = Migrate()
