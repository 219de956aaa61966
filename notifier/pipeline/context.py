"""What a stage may use: the database session, templates, channels, users and the clock."""

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from sqlalchemy.orm import Session

from notifier.channels.base import Channel
from notifier.models.base import utcnow
from notifier.ratelimit import Limiter
from notifier.preferences.unsubscribe import UnsubscribeLinks
from notifier.templating.store import TemplateStore
from notifier.users import LocalUserDirectory, UserDirectory


@dataclass(frozen=True)
class StageContext:
    """Handed to every stage call by the runner (or by a test)."""

    session: Session
    templates: TemplateStore
    channels: Mapping[str, Channel]
    #: Which attempt this is (1 for the first delivery of a message).
    attempt: int = 1
    #: After this attempt a temporary failure is final.
    max_attempts: int = 5
    #: An operator replayed this message from the parking lot: failed deliveries get another try.
    replayed: bool = False
    #: After this long in ``sending``, a delivery is deemed abandoned by a crashed sender.
    sending_lease_seconds: float = 60.0
    #: Usual (non-urgent) notifications without a time wait for the next boundary of this slot.
    usual_slot_seconds: int = 60
    #: Recipients per page of a mailing's expansion (and per checkpoint).
    expansion_page: int = 500
    #: Deliveries the sender claims, sends and records at a time.
    send_chunk: int = 10
    #: The run-time rate limits (token buckets); ``None``: unlimited.
    limiter: Limiter | None = None
    clock: Callable[[], dt.datetime] = utcnow
    #: The user directory; ``None`` means the local ``users`` table, read through ``session``.
    users: UserDirectory | None = None
    #: Signs the unsubscribe links of non-transactional mails; ``None``: mails carry none.
    unsubscribe: UnsubscribeLinks | None = None

    @property
    def directory(self) -> UserDirectory:
        """The user directory to ask."""
        return self.users or LocalUserDirectory(self.session)

    @property
    def is_last_attempt(self) -> bool:
        """A temporary failure now parks the message instead of retrying."""
        return self.attempt >= self.max_attempts
