"""Settings are validated once, with one readable line per problem."""

import pytest

from notifier.errors import SettingsError
from notifier.settings import load_settings, parse_duration


def test_durations() -> None:
    assert [parse_duration(text) for text in ('10s', '1m', '10m', '1h', '5')] == [10, 60, 600, 3600, 5]


def test_a_bad_duration_is_explained() -> None:
    with pytest.raises(ValueError, match='not a duration'):
        parse_duration('soon')


def test_bad_values_name_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv('NOTIFIER_API_PORT', 'eighty')
    monkeypatch.setenv('NOTIFIER_BROKER_URL', 'http://rabbit')

    with pytest.raises(SettingsError) as raised:
        load_settings()

    message = str(raised.value)
    assert 'NOTIFIER_API_PORT' in message
    assert 'NOTIFIER_BROKER_URL: Value error, must be an amqp:// or amqps:// URL' in message
    assert '\n' not in message


def test_tokens_and_delays(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv('NOTIFIER_API_TOKENS', ' a, b ,,')
    monkeypatch.setenv('NOTIFIER_RETRY_DELAYS', '10s,1m')

    settings = load_settings()

    assert settings.tokens == frozenset(('a', 'b'))
    assert settings.retry_delay_seconds == (10, 60)
