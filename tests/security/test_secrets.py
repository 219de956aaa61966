"""Secrets come only from the environment: none is written in the code, and production starts only with them."""

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from notifier.app import create_app
from notifier.errors import SettingsError
from notifier.pipeline.users_setup import DEV_SECRET_FILE, unsubscribe_secret
from notifier.settings import Settings, load_settings

#: Every setting that holds a secret (a URL's password is the operator's: the URLs are checked below).
SECRET_SETTINGS = ('secret_key', 'api_tokens', 'websocket_secret', 'users_token')
MISSING_KEY = 'NOTIFIER_SECRET_KEY is required in production'


def _clean_environment(tmp_path: Path, **variables: str) -> dict[str, str]:
    kept = {name: env_value for name, env_value in os.environ.items() if not name.startswith('NOTIFIER_')}
    return {**kept, 'NOTIFIER_INSTANCE_DIR': str(tmp_path / 'instance'), **variables}


def test_no_secret_has_a_default_in_the_code() -> None:
    defaults = {name: Settings.model_fields[name].default for name in SECRET_SETTINGS}

    assert defaults == dict.fromkeys(SECRET_SETTINGS, '')
    for url_setting in ('database_url', 'users_url', 'users_replica_url', 'public_url'):
        assert Settings.model_fields[url_setting].default == '', url_setting


def test_production_without_a_secret_key_does_not_start(tmp_path: Path) -> None:
    settings = Settings(environment='production', instance_dir=tmp_path, api_tokens='t', secret_key='')

    with pytest.raises(SettingsError, match=MISSING_KEY):
        create_app(settings)
    with pytest.raises(SettingsError, match=MISSING_KEY):
        unsubscribe_secret(settings)
    assert not (tmp_path / DEV_SECRET_FILE).exists()  # production never makes one up


def test_notifier_run_api_in_production_without_a_secret_key_stops_with_one_line(tmp_path: Path) -> None:
    environment = _clean_environment(tmp_path, NOTIFIER_ENVIRONMENT='production', NOTIFIER_API_TOKENS='t')

    finished = subprocess.run(
        [sys.executable, '-m', 'notifier', 'run', 'api', '--port', '1'],
        cwd=tmp_path,  # no .env of a developer's checkout is read
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

    assert finished.returncode == 1
    assert finished.stderr.strip() == 'Error: {0}: it signs unsubscribe links'.format(MISSING_KEY)


def test_the_production_secret_is_the_one_of_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv('NOTIFIER_ENVIRONMENT', 'production')
    monkeypatch.setenv('NOTIFIER_SECRET_KEY', 'from-the-environment')
    monkeypatch.setenv('NOTIFIER_INSTANCE_DIR', str(tmp_path))

    assert unsubscribe_secret(load_settings()) == b'from-the-environment'


def _development(instance_dir: Path) -> Settings:
    return Settings(environment='development', instance_dir=instance_dir, secret_key='')


def test_a_development_secret_is_made_per_instance_and_kept_private(tmp_path: Path) -> None:
    first = unsubscribe_secret(_development(tmp_path / 'one'))
    second = unsubscribe_secret(_development(tmp_path / 'two'))

    assert first != second
    assert len(first) == 64
    assert unsubscribe_secret(_development(tmp_path / 'one')) == first
    assert stat.S_IMODE((tmp_path / 'one' / DEV_SECRET_FILE).stat().st_mode) == 0o600
