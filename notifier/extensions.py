"""Flask extensions, created unbound here and bound in the app factory."""

import logging

from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy.exc import SQLAlchemyError

from notifier.models.base import Base

db = SQLAlchemy(model_class=Base)
migrate = Migrate()
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
        db.session().invalidate()
