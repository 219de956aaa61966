"""The event schema accepts the brief's shape, both spellings, and explains what is wrong."""

import pytest
from marshmallow import ValidationError

from notifier.schemas.events import EventSchema


def test_brief_spelling_is_normalized() -> None:
    event = EventSchema().load({
        'meta': {'urgency': 'immidiate', 'scale': 'individual', 'email': 'a@example.com', 'periodic': False},
        'type': 'welcome',
        'costom_template': 'welcome',
        'fields': {'name': 'A'},
    })

    assert event['meta']['urgency'] == 'immediate'
    assert event['custom_template'] == 'welcome'
    assert event['event_fields'] == {'name': 'A'}
    assert event['channels'] == ['email']


def test_user_registered_takes_the_email_from_its_fields() -> None:
    event = EventSchema().load({
        'type': 'user_registered',
        'fields': {'user_id': '42', 'email': 'new@example.com', 'name': 'New'},
    })

    assert event['notification_type'] == 'user_registered'
    assert event['event_fields']['email'] == 'new@example.com'


def test_user_registered_with_a_bad_email_is_refused() -> None:
    with pytest.raises(ValidationError) as raised:
        EventSchema().load({'type': 'user_registered', 'fields': {'email': 'nope'}})

    assert raised.value.messages == {'fields.email': ['not a valid email address']}


def test_bulk_needs_an_audience_unless_its_type_implies_one() -> None:
    implied = EventSchema().load({'meta': {'scale': 'bulk'}, 'type': 'info'})
    with pytest.raises(ValidationError) as raised:
        EventSchema().load({'meta': {'scale': 'bulk'}, 'type': 'welcome'})

    assert implied['meta']['audience'] is None

    assert 'meta.audience' in raised.value.messages


def test_bulk_takes_exactly_one_kind_of_audience() -> None:
    event = EventSchema().load({'meta': {'scale': 'bulk', 'audience': {'segment': 'all'}}, 'type': 'info'})
    with pytest.raises(ValidationError) as raised:
        EventSchema().load({
            'meta': {'scale': 'bulk', 'audience': {'segment': 'all', 'emails': ['a@example.com']}}, 'type': 'info',
        })

    assert event['meta']['audience'] == {'segment': 'all'}
    assert raised.value.messages['meta']['audience'] == {'_schema': ['give exactly one of segment, user_ids, emails']}


def test_unknown_keys_are_refused() -> None:
    with pytest.raises(ValidationError) as raised:
        EventSchema().load({'meta': {'email': 'a@example.com'}, 'type': 'info', 'surprise': 1})

    assert raised.value.messages == {'surprise': ['Unknown field.']}


def test_a_naive_scheduled_time_is_refused() -> None:
    with pytest.raises(ValidationError) as raised:
        EventSchema().load({'meta': {'email': 'a@example.com', 'scheduled_at': '2030-01-01T10:00:00'}, 'type': 'info'})

    assert 'scheduled_at' in raised.value.messages['meta']
