"""What the stages of a process share, built once from the settings, and the context of each call."""

from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy.orm import Session

from notifier.channels.base import Channel
from notifier.extensions import db
from notifier.pipeline import users_setup
from notifier.pipeline.context import StageContext
from notifier.preferences.unsubscribe import UnsubscribeLinks
from notifier.ratelimit import Limiter, rate_lookup
from notifier.settings import Settings
from notifier.templating.store import TemplateStore
from notifier.templating.stored import template_store
from notifier.users import UserDirectory


@dataclass(frozen=True)
class StageDependencies:
    """The long-lived parts of a consume process."""

    settings: Settings
    channels: Mapping[str, Channel]
    templates: TemplateStore
    limiter: Limiter
    users: UserDirectory | None
    unsubscribe: UnsubscribeLinks | None

    def context(self, attempt: int, replayed: bool) -> StageContext:
        """The context of one stage call (inside an application context)."""
        return StageContext(
            session=db.session(),
            templates=self.templates,
            channels=self.channels,
            attempt=attempt,
            max_attempts=len(self.settings.retry_delay_seconds) + 1,
            replayed=replayed,
            sending_lease_seconds=self.settings.sending_lease,
            usual_slot_seconds=self.settings.usual_slot_seconds,
            expansion_page=self.settings.expansion_page,
            limiter=self.limiter,
            users=self.users,
            unsubscribe=self.unsubscribe,
        )


def build_dependencies(settings: Settings, channels: Mapping[str, Channel]) -> StageDependencies:
    """Templates, rate limits, the user directory and the unsubscribe links of a process."""
    return StageDependencies(
        settings=settings,
        channels=channels,
        templates=template_store(settings),
        limiter=Limiter(rate_lookup(lambda: Session(db.engine))),
        users=users_setup.directory_from_settings(settings),
        unsubscribe=users_setup.links_from_settings(settings),
    )
