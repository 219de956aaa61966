"""A third party's channel plugin: built in a temp dir, pip-installed, listed, and delivering end to end."""

import json
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask

from notifier.plugins import default_registry
from tests.channels_links.test_sms_push_delivery import event_for, finished, only, post
from tests.plugins.app import running_consumers, wait_for

DISTRIBUTION = 'notifier-pager-demo'
NOTIFIER = Path(sys.executable).parent / 'notifier'

SETUP = '''
from setuptools import setup

setup(
    name='notifier-pager-demo',
    version='0.3.0',
    packages=['notifier_pager_demo'],
    install_requires=['notifier>=0.1,<1'],
    entry_points={'notifier.channels': ['pager_demo = notifier_pager_demo']},
)
'''
PLUGIN = '''
"""A pager channel that writes each message to NOTIFIER_PAGER_DIR/<delivery id>.json."""

import json
from pathlib import Path

from marshmallow import Schema, fields

from notifier.channels.base import AddressKind, Channel, OutgoingMessage, SendResult
from notifier.hookspecs import hookimpl


class PagerSettings(Schema):
    dir = fields.String(required=True)


class PagerChannel(Channel):
    name = 'pager'
    settings_schema = PagerSettings
    address_kind = AddressKind.phone

    def send(self, message: OutgoingMessage) -> SendResult:
        page = {'to': message.recipient, 'text': message.text}
        target = Path(self.settings['dir']) / '{0}.json'.format(message.delivery_id)
        target.write_text(json.dumps(page, ensure_ascii=False))
        return SendResult.sent(message.delivery_id)


@hookimpl
def notifier_channels():
    return [PagerChannel]
'''
TEMPLATE = '{% block text %}Пейджер: «{{ show }}» {{ episode }}{% endblock %}\n'


def _pip(*arguments: str) -> None:
    subprocess.run([sys.executable, '-m', 'pip', '--quiet', *arguments], check=True, capture_output=True)


def _written_package(tmp_path: Path) -> Path:
    package = tmp_path / 'pager'
    (package / 'notifier_pager_demo').mkdir(parents=True)
    (package / 'setup.py').write_text(textwrap.dedent(SETUP))
    (package / 'notifier_pager_demo' / '__init__.py').write_text(textwrap.dedent(PLUGIN))
    return package


def _written_templates(tmp_path: Path) -> Path:
    templates = tmp_path / 'templates'
    (tmp_path / 'pages').mkdir()
    (templates / 'pager').mkdir(parents=True)
    (templates / 'pager' / 'show_subs.ru.html').write_text(TEMPLATE)
    return templates


@pytest.fixture
def pager_plugin(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """The package built in a temp dir and installed into this venv, uninstalled at the end."""
    package = _written_package(tmp_path)
    templates = _written_templates(tmp_path)
    monkeypatch.setenv('NOTIFIER_PAGER_DIR', str(tmp_path / 'pages'))
    _pip('install', '--no-deps', '--no-build-isolation', str(package))
    default_registry.cache_clear()
    try:
        yield templates
    finally:
        _pip('uninstall', '--yes', DISTRIBUTION)
        default_registry.cache_clear()


def test_a_pip_installed_plugin_is_listed_and_delivers(links_app: Flask, pager_plugin: Path, tmp_path: Path) -> None:
    listed = subprocess.run([str(NOTIFIER), 'plugins'], check=True, capture_output=True, text=True).stdout
    pager_line = [line.split() for line in listed.splitlines() if line.startswith('pager')]
    assert pager_line == [['pager', DISTRIBUTION, '0.3.0', '(notifier_pager_demo)']]

    settings = links_app.extensions['notifier.settings']
    links_app.extensions['notifier.settings'] = settings.model_copy(update={'templates_dir': pager_plugin})
    with running_consumers(links_app):
        notification_id = post(links_app, event_for('42', ['pager']))
        row = only(wait_for(lambda: finished(links_app, notification_id, 1), what='the pager delivery'))

    assert (row.channel, row.state) == ('pager', 'sent')
    page = json.loads((tmp_path / 'pages' / '{0}.json'.format(row.id)).read_text())
    assert page == {'to': '+79991234567', 'text': 'Пейджер: «Тьма» S01E02'}
