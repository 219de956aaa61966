"""The state of a pipelined run of mails on one SMTP connection (``SmtpTransport.deliver_many``).

At most one mail is held at a time: the server accepted its envelope and
waits for its body, which goes out in one write with the next mail's envelope.
"""

from dataclasses import dataclass, field

from notifier.channels.base import SendResult
from notifier_email_smtp.mime import RawMail


@dataclass(frozen=True)
class HeldMail:
    """A mail whose envelope the server accepted (it waits for the body), and its place in the run."""

    index: int
    mail: RawMail
    mail_key: str
    #: The envelope's ``RCPT TO`` (an IDNA domain where the server takes no SMTPUTF8).
    recipient: str


@dataclass
class PipelinedRun:
    """A run in progress: the answers so far by position, and the mail whose body waits."""

    answers: dict[int, SendResult] = field(default_factory=dict)
    held: HeldMail | None = None

    def take_held(self) -> HeldMail | None:
        """The held mail, no longer held."""
        held = self.held
        self.held = None
        return held

    def answered(self) -> list[SendResult]:
        """The answers in the order of the mails."""
        return [self.answers[position] for position in sorted(self.answers)]
