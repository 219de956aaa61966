"""``notifier openapi``: print the API's OpenAPI document (what ``docs/openapi.json`` holds)."""

import sys

import click

from notifier.api.openapi import document_text
from notifier.app import create_app
from notifier.settings import load_settings


@click.command('openapi')
def openapi_command() -> None:
    """Print the OpenAPI document (built on an in-memory database: nothing is touched)."""
    sys.stdout.write(document_text(create_app(load_settings(database_url='sqlite://'))))
