"""Builds the installed channels from their ``NOTIFIER_<CHANNEL>_*`` settings."""

from notifier.channels.base import Channel, ChannelSettingsError
from notifier.errors import SettingsError
from notifier.plugins import ChannelRegistry, default_registry
from notifier.settings import channel_environment


def open_channels(registry: ChannelRegistry | None = None) -> dict[str, Channel]:
    """One instance of every installed channel; bad settings are a :class:`SettingsError`."""
    opened: dict[str, Channel] = {}
    for name, channel_info in (registry or default_registry()).channels().items():
        try:
            opened[name] = channel_info.channel_class.from_environment(channel_environment(name))
        except ChannelSettingsError as error:
            raise SettingsError(str(error)) from None
    return opened


def close_channels(channels: dict[str, Channel]) -> None:
    """Close every channel's connections."""
    for channel in channels.values():
        channel.close()
