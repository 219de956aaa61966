"""How the runner calls a stage: over a batch, one outcome per message, errors turned into outcomes."""

import logging
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from sqlalchemy.exc import SQLAlchemyError

from notifier.extensions import discard_session
from notifier.pipeline.context import StageContext
from notifier.pipeline.outcomes import Outcome, Park, PoisonMessageError, Retry

logger = logging.getLogger(__name__)

#: A message body, as a stage gets it.
Body = Mapping[str, Any]
Stage = Callable[[Body, StageContext], Outcome]
#: A stage over a batch: one outcome per body, in order; a poison body gets a :class:`Park`, not an exception.
BatchStage = Callable[[Sequence[Body], StageContext], list[Outcome]]


def error_outcome(error: Exception) -> Retry | Park:
    """What an error of stage code means for its message: poison is parked, anything else retried."""
    if isinstance(error, PoisonMessageError):
        return Park(str(error))
    discard_session()
    if isinstance(error, SQLAlchemyError):
        logger.warning('database error, will retry: %s', error)
        return Retry('database error: {0}'.format(type(error).__name__))
    logger.error('unexpected error in a stage', exc_info=error)
    return Retry('unexpected error: {0}: {1}'.format(type(error).__name__, error))
