"""A page's preference snapshot decides exactly as the per-recipient database reads do."""

import datetime as dt

from flask import Flask

from notifier.extensions import db
from notifier.preferences.rules import DatabasePreferences, decide
from notifier.preferences.snapshot import PagePreferences
from notifier.preferences.store import write_preferences
from notifier.preferences.subjects import Recipient, address_subject, user_subject

#: 23:00 in Moscow: inside 22:00-08:00 quiet hours.
LATE = dt.datetime(2026, 11, 27, 20, 0, tzinfo=dt.timezone.utc)
CHANNELS = ('email', 'sms', 'push')
CATEGORIES = ('marketing', 'service', 'transactional')
RECIPIENTS = (
    Recipient(user_id='all-on', email='all-on@example.com'),
    Recipient(user_id='opted-out', email='opted-out@example.com'),
    Recipient(user_id='no-marketing', email='no-marketing@example.com'),
    Recipient(user_id='no-email-service', email='no-email-service@example.com'),
    Recipient(user_id='sleeps', email='sleeps@example.com'),
    Recipient(email='Address.Only@Example.com'),
    Recipient(user_id='unknown-user'),
)


def _choose() -> None:
    session = db.session()
    write_preferences(session, user_subject('opted-out'), {'opted_out': True})
    write_preferences(session, user_subject('no-marketing'), {
        'opted_out': False, 'categories': {'marketing': {'enabled': False}},
    })
    write_preferences(session, user_subject('no-email-service'), {
        'opted_out': False, 'categories': {'service': {'enabled': True, 'channels': {'email': False}}},
    })
    write_preferences(session, user_subject('sleeps'), {
        'opted_out': False, 'time_zone': 'Europe/Moscow', 'quiet_hours': {'start': '22:00', 'end': '08:00'},
    })
    write_preferences(session, address_subject('address.only@example.com'), {
        'opted_out': False, 'categories': {'marketing': {'enabled': True, 'channels': {'sms': False}}},
    })


def test_the_snapshot_of_a_page_decides_like_the_database(users_app: Flask) -> None:
    with users_app.app_context():
        _choose()
        database = DatabasePreferences(db.session())
        verdicts = {}
        for category in CATEGORIES:
            page = PagePreferences(db.session(), RECIPIENTS, category)
            for recipient in RECIPIENTS:
                for channel in CHANNELS:
                    expected = decide(database, recipient, category, channel, LATE)
                    assert decide(page, recipient, category, channel, LATE) == expected, (recipient, category, channel)
                    verdicts[recipient.user_id or recipient.email, category, channel] = expected

    # The fixture really exercises every rule, so the equality above means something.
    assert not verdicts['opted-out', 'service', 'email'].allowed
    assert not verdicts['no-marketing', 'marketing', 'push'].allowed
    assert verdicts['no-marketing', 'service', 'push'].allowed
    assert not verdicts['no-email-service', 'service', 'email'].allowed
    assert verdicts['no-email-service', 'service', 'sms'].allowed
    assert verdicts['sleeps', 'service', 'email'].wait_until is not None
    assert not verdicts['Address.Only@Example.com', 'marketing', 'sms'].allowed
    assert verdicts['opted-out', 'transactional', 'email'].allowed
