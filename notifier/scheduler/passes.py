"""One scheduler pass: fire due schedules, release due notifications, publish what they wrote."""

import datetime as dt
import logging

from sqlalchemy.orm import Session

from notifier.pipeline.outbox import Publish, publish_now
from notifier.scheduler.due import release_due
from notifier.scheduler.schedules_pass import fire_due

logger = logging.getLogger(__name__)


def scheduler_pass(session: Session, now: dt.datetime, publish: Publish) -> int:
    """Do what is due at ``now``; returns how many outbox rows it wrote (and published)."""
    fired = fire_due(session, now)
    if fired.fired or fired.skipped:
        logger.info('schedules: %d occurrence(s) fired, %d skipped', fired.fired, fired.skipped)
    if fired.failed:
        logger.warning('schedules: %d occurrence(s) failed and were set aside (see their reason)', fired.failed)
    released = release_due(session, now)
    if released:
        logger.info('released %d due notification(s)', len(released))
    written = [*fired.outbox_ids, *released]
    publish_now(session, written, publish)
    return len(written)
