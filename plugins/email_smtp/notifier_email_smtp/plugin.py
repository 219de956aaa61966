"""The hook implementations that register the email channel."""

from notifier.channels.base import Channel
from notifier.hookspecs import hookimpl
from notifier_email_smtp.channel import EmailChannel


@hookimpl
def notifier_channels() -> list[type[Channel]]:
    """Provide the ``email`` channel."""
    return [EmailChannel]
