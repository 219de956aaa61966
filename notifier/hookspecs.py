"""Hook specifications of the ``notifier`` plugin system (pluggy).

A package registers itself under the ``notifier.channels`` entry-point group
and implements these hooks with :data:`hookimpl`.
"""

import pluggy

from notifier.channels.base import Channel

PROJECT_NAME = 'notifier'
ENTRY_POINT_GROUP = 'notifier.channels'

hookspec = pluggy.HookspecMarker(PROJECT_NAME)
hookimpl = pluggy.HookimplMarker(PROJECT_NAME)


@hookspec
def notifier_channels() -> list[type[Channel]]:  # type: ignore[empty-body]
    """Return the channel classes this plugin provides.

    Each class names its channel and its settings schema; the notifier builds
    one instance per consumer from the ``NOTIFIER_<NAME>_*`` settings.
    """
