"""``notifier plugins``: which channel plugins are installed."""

import click

from notifier.plugins import default_registry


@click.command('plugins')
def plugins_command() -> None:
    """List the installed channel plugins and their versions."""
    channels = default_registry().channels()
    if not channels:
        click.echo('no channel plugins installed (pip install -e plugins/email_smtp)')
        return
    for name, channel_info in sorted(channels.items()):
        click.echo('{0:<12} {1} {2} ({3})'.format(
            name, channel_info.package, channel_info.version, channel_info.channel_class.__module__,
        ))
