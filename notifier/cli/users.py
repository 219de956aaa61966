"""``notifier users import FILE``: fill the local user directory (the embedded default)."""

from pathlib import Path

import click
from flask.cli import with_appcontext

from notifier.extensions import db
from notifier.users.importing import ImportFileError, import_users, read_rows

FORMATS = ('csv', 'jsonl')


def _format_of(path: Path) -> str:
    if path.suffix.lower() == '.csv':
        return 'csv'
    return 'jsonl'


@click.group('users')
def users_group() -> None:
    """The local user directory (used when NOTIFIER_USERS_URL is not set)."""


@users_group.command('import')
@click.argument('path', type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option('--format', 'file_format', type=click.Choice(FORMATS), help='default: from the file extension')
@with_appcontext
def import_command(path: Path, file_format: str | None) -> None:
    """Add or replace the users of a CSV or JSON-lines file, all or nothing."""
    chosen = file_format or _format_of(path)
    with path.open(encoding='utf-8', newline='') as source:
        try:
            imported = import_users(db.session(), read_rows(source, chosen))
        except ImportFileError as error:
            raise click.ClickException('{0}: {1}; nothing was imported'.format(path, error)) from None
    click.echo('imported {0} user(s) from {1}'.format(imported.users, path))
