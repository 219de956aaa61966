"""The hook implementations that register the SMS channel."""

from notifier.channels.base import Channel
from notifier.hookspecs import hookimpl
from notifier_sms_stub.channel import SmsChannel


@hookimpl
def notifier_channels() -> list[type[Channel]]:
    """Provide the ``sms`` channel."""
    return [SmsChannel]
