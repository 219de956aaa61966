"""Sample messages of a mailing, rendered in the pipeline's template sandbox without sending or storing anything.

The fields are the worker's: the recipient's address, their directory fields
under the mailing's own, and the unsubscribe link of a non-transactional
mail. No delivery id is given, so ``| short`` links stay the checked targets
and no short link is stored.
"""

from dataclasses import dataclass

from notifier.models import Notification
from notifier.notification_types import Category, category_of
from notifier.pipeline.addressing import Addressee
from notifier.preferences.unsubscribe import UnsubscribeLinks
from notifier.templating.store import TemplateError, TemplateStore


@dataclass(frozen=True)
class SampleMail:
    """One recipient's rendered message, or why it cannot be rendered."""

    recipient: str
    channel: str
    subject: str = ''
    html: str = ''
    text: str = ''
    error: str | None = None


@dataclass(frozen=True)
class SampleRenderer:
    """Renders with ``templates``; signs unsubscribe links with ``unsubscribe`` (none when ``None``)."""

    templates: TemplateStore
    unsubscribe: UnsubscribeLinks | None = None

    def render(self, notification: Notification, addressee: Addressee, address: str, channel: str) -> SampleMail:
        """The message ``address`` would get on ``channel``."""
        category = category_of(notification.type)
        template_fields = {'email': address, **addressee.template_fields}
        subject = addressee.recipient.unsubscribe_subject
        if self.unsubscribe is not None and subject is not None and category != Category.transactional:
            template_fields['unsubscribe_url'] = self.unsubscribe.url(subject, category)
        try:
            rendered = self.templates.render(channel, notification.template, addressee.locale, template_fields)
        except TemplateError as error:
            return SampleMail(recipient=address, channel=channel, error=str(error))
        return SampleMail(
            recipient=address, channel=channel, subject=rendered.subject, html=rendered.html, text=rendered.text,
        )
