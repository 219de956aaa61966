"""The sending lease bounds a whole chunk: a claimed mail is begun only while half the lease is left.

A claim holds its deliveries for ``NOTIFIER_SENDING_LEASE`` (60 s); after it,
another sender may take them over. The sends of a chunk follow one another
(a slow server, a rate limit's wait), so without a bound the last mails of a
chunk could be sent after the lease had passed, in parallel with a sender
that took them over. A mail is therefore begun only in the first half of its
claim's lease, and the other half is left for that one send (the channel's
own timeouts bound it: ``NOTIFIER_EMAIL_TIMEOUT`` per SMTP step, 10 s).
What was claimed and not begun is given back, fenced by the claim: ``pending``
again, the attempt not counted, and its message waits in a delay tier without
spending an attempt.
"""

import datetime as dt
import logging
from collections.abc import Collection

from sqlalchemy import exc, update

from notifier.extensions import discard_session
from notifier.models import Delivery, DeliveryState
from notifier.pipeline.context import StageContext
from notifier.pipeline.outcomes import Retry

logger = logging.getLogger(__name__)

#: The share of the lease in which a claimed mail may be begun; the rest bounds the send itself.
BEGIN_WITHIN = 0.5


def may_begin(context: StageContext, claimed_at: dt.datetime) -> bool:
    """Whether a mail of the claim made at ``claimed_at`` may still be begun."""
    window = dt.timedelta(seconds=context.sending_lease_seconds * BEGIN_WITHIN)
    return context.clock() - claimed_at < window


def not_begun(delivery_id: str) -> Retry:
    """The outcome of a claimed delivery given back unsent: it waits, without spending an attempt."""
    return Retry(
        'delivery {0} was not begun within half the sending lease; given back'.format(delivery_id),
        spends_attempt=False,
    )


def give_back(context: StageContext, delivery_ids: Collection[str], claimed_at: dt.datetime) -> None:
    """Make still-held deliveries of this claim ``pending`` again, their claim not counted; commit.

    If the database fails here, the rows stay ``sending`` and are taken over once the lease has passed.
    """
    if not delivery_ids:
        return
    try:
        context.session.execute(
            update(Delivery)
            .where(
                Delivery.id.in_(list(delivery_ids)),
                Delivery.state == DeliveryState.sending,
                Delivery.sending_since == claimed_at,
            )
            .values(state=DeliveryState.pending, sending_since=None, attempts=Delivery.attempts - 1)
            .execution_options(synchronize_session=False),
        )
        context.session.commit()
    except exc.DBAPIError as error:
        discard_session()
        logger.warning('giving back %d deliveries failed (their lease will expire): %s', len(delivery_ids), error)
