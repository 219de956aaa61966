"""A sender's jobs: the channel messages of a batch, and the chunks of them that were sent."""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from notifier.channels.base import OutgoingMessage
from notifier.observability.deliveries import Completion
from notifier.pipeline.delivery_rows import OptOutCheck
from notifier.pipeline.outcomes import Outcome
from notifier.pipeline.send_records import Answer, Answers
from notifier.preferences.subjects import Recipient

DELIVERY_ID = 'delivery_id'


@dataclass(frozen=True, eq=False)
class Job:
    """One channel message of a batch."""

    index: int
    message: Mapping[str, Any]

    @property
    def delivery_id(self) -> str:
        """The delivery it sends."""
        return str(self.message[DELIVERY_ID])

    @property
    def channel(self) -> str:
        """The channel it goes through."""
        return str(self.message['channel'])

    def completion(self, decision: Outcome) -> Completion:
        """What the metrics count of its end."""
        message = self.message
        return Completion(self.channel, decision, message['accepted_at'], message['urgency'], message['scale'])

    def outgoing(self) -> OutgoingMessage:
        """What the channel plugin gets."""
        rendered = self.message['rendered']
        return OutgoingMessage(
            delivery_id=self.delivery_id,
            notification_id=self.message['notification_id'],
            recipient=self.message['email'],
            subject=rendered['subject'],
            html=rendered['html'],
            text=rendered['text'],
            headers=self.message['headers'],
            blocks=rendered['blocks'],
        )

    def opt_out_check(self) -> OptOutCheck:
        """Its recipient's opt-out, checked again right before sending."""
        recipient = Recipient(user_id=self.message['user_id'], email=self.message['email'])
        return OptOutCheck(self.delivery_id, recipient, self.message['category'], self.channel)


#: A job that was sent, and the channel's answer.
SentJob = tuple[Job, Answer]


@dataclass(frozen=True)
class SentChunk:
    """A chunk whose mails are out, and their answers waiting to be written."""

    jobs: Sequence[SentJob]
    answers: Answers
