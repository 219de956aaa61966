"""Quiet hours across time-zone and date boundaries; unsubscribe tokens that cannot be forged."""

import datetime as dt
import zoneinfo

import pytest

from notifier.preferences.quiet import parse_clock, quiet_until
from notifier.preferences.unsubscribe import InvalidTokenError, UnsubscribeLinks, sign, verify

UTC = dt.timezone.utc
SECRET = b'server secret'
NIGHT = (parse_clock('22:00'), parse_clock('08:00'))


def _utc(hour: int, minute: int = 0, day: int = 27) -> dt.datetime:
    return dt.datetime(2026, 11, day, hour, minute, tzinfo=UTC)


def test_quiet_hours_end_on_the_next_local_morning_across_the_date_line() -> None:
    # 13:30 UTC is 23:30 in Vladivostok (UTC+10): quiet until 08:00 local, which is 22:00 UTC the same UTC day.
    zone = zoneinfo.ZoneInfo('Asia/Vladivostok')

    assert quiet_until(_utc(13, 30), *NIGHT, zone) == _utc(22)


def test_quiet_hours_after_local_midnight_end_the_same_local_morning() -> None:
    # 23:30 UTC on the 27th is 02:30 on the 28th in Moscow (UTC+3): quiet until 08:00 MSK = 05:00 UTC on the 28th.
    zone = zoneinfo.ZoneInfo('Europe/Moscow')

    assert quiet_until(_utc(23, 30), *NIGHT, zone) == _utc(5, day=28)


def test_the_same_moment_is_quiet_in_one_zone_and_not_in_another() -> None:
    moment = _utc(20)  # 23:00 in Moscow, 12:00 in New York

    assert quiet_until(moment, *NIGHT, zoneinfo.ZoneInfo('Europe/Moscow')) == _utc(5, day=28)
    assert quiet_until(moment, *NIGHT, zoneinfo.ZoneInfo('America/New_York')) is None


def test_a_daytime_window_and_its_edges() -> None:
    start, end = parse_clock('13:00'), parse_clock('14:00')

    assert quiet_until(_utc(12, 59), start, end, UTC) is None
    assert quiet_until(_utc(13), start, end, UTC) == _utc(14)
    assert quiet_until(_utc(14), start, end, UTC) is None
    assert quiet_until(_utc(13), start, start, UTC) is None


@pytest.mark.parametrize('text', ['24:00', '7:00', '07:60', 'soon', ''])
def test_bad_clock_times_are_refused(text: str) -> None:
    with pytest.raises(ValueError, match='not a time'):
        parse_clock(text)


def test_a_token_names_its_subject_and_category() -> None:
    token = sign(SECRET, 'user:42', 'marketing')

    assert verify(SECRET, token) == ('user:42', 'marketing')


def _flip(text: str, position: int) -> str:
    replacement = 'A' if text[position] != 'A' else 'B'
    return text[:position] + replacement + text[position + 1:]


def test_forged_and_altered_tokens_are_rejected() -> None:
    token = sign(SECRET, 'user:42', 'marketing')
    payload, mac = token.split('.')
    other_payload = sign(SECRET, 'user:43', 'marketing').split('.')[0]
    forged = [
        sign(b'another secret', 'user:42', 'marketing'),  # signed with a key that is not ours
        '{0}.{1}'.format(other_payload, mac),  # someone else's subject under our signature
        '{0}.{1}'.format(_flip(payload, 2), mac),
        '{0}.{1}'.format(payload, _flip(mac, 5)),
        payload,
        '',
        '!!!.???',
        'é.é',
    ]

    for bad in forged:
        with pytest.raises(InvalidTokenError):
            verify(SECRET, bad)


def test_a_signed_token_for_the_transactional_category_is_refused() -> None:
    with pytest.raises(InvalidTokenError):
        verify(SECRET, sign(SECRET, 'user:42', 'transactional'))


def test_links_and_their_rfc_8058_headers() -> None:
    links = UnsubscribeLinks(secret=SECRET, base_url='https://notify.example/')
    url = links.url('email:a@example.com', 'service')

    assert url.startswith('https://notify.example/unsubscribe/')
    assert verify(SECRET, url.rsplit('/', 1)[1]) == ('email:a@example.com', 'service')
    assert links.headers(url) == {
        'List-Unsubscribe': '<{0}>'.format(url),
        'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click',
    }
