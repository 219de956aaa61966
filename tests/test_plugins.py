"""The plugin system: hooks called the way the app calls them, and a meta-test that each has a test."""

import inspect
from pathlib import Path

from notifier import hookspecs
from notifier.channels.base import Channel
from notifier.channels.websocket import WebSocketChannel
from notifier.plugins import build_plugin_manager, default_registry
from notifier_email_smtp.channel import EmailChannel


def test_notifier_channels_hook_returns_the_email_channel() -> None:
    manager = build_plugin_manager()

    provided = [channel for channels in manager.hook.notifier_channels() for channel in channels]

    assert EmailChannel in provided
    assert all(issubclass(channel, Channel) for channel in provided)


def test_registry_knows_the_package_and_version_of_each_channel() -> None:
    email = default_registry().channels()['email']

    assert email.package == 'notifier-email-smtp'
    assert email.version == '0.1.0'


def test_without_entry_points_only_the_builtin_websocket_channel_is_installed() -> None:
    assert build_plugin_manager(load_entry_points=False).hook.notifier_channels() == [[WebSocketChannel]]


def test_every_hook_spec_has_a_test() -> None:
    specs = [name for name, member in inspect.getmembers(hookspecs, inspect.isfunction) if name.startswith('notifier_')]
    tests = '\n'.join(path.read_text() for path in Path(__file__).parent.rglob('test_*.py'))

    untested = [name for name in specs if 'hook.{0}('.format(name) not in tests]

    assert specs
    assert untested == []
