"""The plugin manager: loads channel plugins from entry points, typed for call sites.

Like datasette, built-in channels are plugins too (:data:`DEFAULT_PLUGINS`);
third-party ones come from the ``notifier.channels`` entry-point group.
"""

import importlib
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from typing import cast

import pluggy

from notifier import hookspecs
from notifier.channels.base import Channel

#: Modules of this package that register hooks, loaded before the entry points.
DEFAULT_PLUGINS: tuple[str, ...] = ('notifier.channels.websocket',)


@dataclass(frozen=True)
class ChannelInfo:
    """A channel class and the package that provided it."""

    channel_class: type[Channel]
    package: str
    version: str

    @property
    def name(self) -> str:
        """The channel's name."""
        return self.channel_class.name


class UnknownChannelError(LookupError):
    """A channel was asked for that no installed plugin provides."""


class ChannelRegistry:
    """Typed access to the channels that the loaded plugins provide."""

    def __init__(self, manager: pluggy.PluginManager) -> None:
        """Wrap a plugin manager whose plugins are already registered."""
        self._manager = manager

    @property
    def manager(self) -> pluggy.PluginManager:
        """The underlying pluggy manager (for tests and introspection)."""
        return self._manager

    def channels(self) -> Mapping[str, ChannelInfo]:
        """Every channel the installed plugins provide, by name."""
        distributions = {
            id(plugin): (dist.project_name, dist.version)
            for plugin, dist in self._manager.list_plugin_distinfo()
        }
        found: dict[str, ChannelInfo] = {}
        for impl in self._manager.hook.notifier_channels.get_hookimpls():
            origin = distributions.get(id(impl.plugin), ('notifier', 'builtin'))
            for channel_class in cast(list[type[Channel]], impl.function()):
                found[channel_class.name] = ChannelInfo(channel_class, *origin)
        return found

    def channel_class(self, name: str) -> type[Channel]:
        """The class of one channel, or :class:`UnknownChannelError`."""
        known = self.channels()
        if name not in known:
            raise UnknownChannelError(
                'no installed plugin provides channel {0!r} (installed: {1})'.format(
                    name, ', '.join(sorted(known)) or 'none',
                ),
            )
        return known[name].channel_class


def build_plugin_manager(*, load_entry_points: bool = True) -> pluggy.PluginManager:
    """A plugin manager with the hook specs, the built-ins and (by default) the installed plugins."""
    manager = pluggy.PluginManager(hookspecs.PROJECT_NAME)
    manager.add_hookspecs(hookspecs)
    for module_name in DEFAULT_PLUGINS:
        manager.register(importlib.import_module(module_name), name=module_name)
    if load_entry_points:
        manager.load_setuptools_entrypoints(hookspecs.ENTRY_POINT_GROUP)
    return manager


@cache
def default_registry() -> ChannelRegistry:
    """The process-wide registry of installed channels."""
    return ChannelRegistry(build_plugin_manager())
