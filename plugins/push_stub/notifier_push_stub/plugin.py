"""The hook implementations that register the push channel."""

from notifier.channels.base import Channel
from notifier.hookspecs import hookimpl
from notifier_push_stub.channel import PushChannel


@hookimpl
def notifier_channels() -> list[type[Channel]]:
    """Provide the ``push`` channel."""
    return [PushChannel]
