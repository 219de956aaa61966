"""The command group, built on Flask's so ``notifier db upgrade`` works as in any Flask app."""

from typing import Any

import click
from flask.cli import FlaskGroup, routes_command, shell_command

from notifier.app import create_app
from notifier.cli.admins import admins_group
from notifier.cli.dlq import dlq_group
from notifier.cli.limits import limits_group
from notifier.cli.mailings import mailings_group
from notifier.cli.openapi import openapi_command
from notifier.cli.outbox import outbox_group
from notifier.cli.plugins import plugins_command
from notifier.cli.run import run_group
from notifier.cli.schedules import schedules_group
from notifier.cli.users import users_group
from notifier.errors import NotifierError


class NotifierGroup(FlaskGroup):
    """Turns the service's own errors into one readable line instead of a traceback."""

    def invoke(self, ctx: click.Context) -> Any:
        """Run the command; a :class:`NotifierError` becomes ``Error: <message>``."""
        try:
            return super().invoke(ctx)
        except NotifierError as error:
            raise click.ClickException(str(error)) from None


@click.group(
    cls=NotifierGroup,
    create_app=create_app,
    add_default_commands=False,
    set_debug_flag=False,
    load_dotenv=False,
)
def cli() -> None:
    """Notifier: the notification service of the online cinema."""


cli.add_command(run_group)
cli.add_command(plugins_command)
cli.add_command(dlq_group)
cli.add_command(outbox_group)
cli.add_command(schedules_group)
cli.add_command(mailings_group)
cli.add_command(limits_group)
cli.add_command(admins_group)
cli.add_command(openapi_command)
cli.add_command(users_group)
cli.add_command(shell_command)
cli.add_command(routes_command)


def main() -> None:
    """Entry point of the ``notifier`` console script."""
    cli.main(prog_name='notifier')
