"""Every address that enters through the API passes one rule (email-validator); CR/LF is a 422 on its field."""

import importlib
import inspect
import pkgutil
from typing import Any

import pytest
from email_validator import EmailNotValidError, validate_email
from flask import Flask
from marshmallow import Schema, ValidationError, fields

from notifier import schemas as schema_package
from notifier.schemas.addresses import MAX_EMAIL_LENGTH, EmailAddress, check_email, is_email
from notifier.schemas.events import BulkAudienceSchema, EventMetaSchema
from notifier.schemas.schedules import AudienceSchema
from tests.plugins.app import AUTH

CRLF_ADDRESS = 'vasya@example.com\r\nBcc: evil@example.com'
BAD_ADDRESSES = (
    CRLF_ADDRESS,
    'vasya@example.com\n',
    'vasya@example.com\rX-Injected: yes',
    'vasya@example.com\u2028X-Injected: yes',
    'vasya\x00@example.com',
    'Vasya <vasya@example.com>',
    'vasya@example.com, petya@example.com',
    ' vasya@example.com',
    '"vasya pupkin"@example.com',
    'vasya@localhost',
    'vasya@[127.0.0.1]',
    'vasya@cinema.local',
    'v@{0}.example.com'.format('d' * 250),
)
GOOD_ADDRESSES = ('vasya@example.com', 'Vasya.Pupkin+news@mail.example.org', 'пётр@пример.рф')
SCHEDULE = {'name': 'weekly', 'cron': '0 9 * * 1', 'type': 'info', 'fields': {'title': 't', 'text': 'x'}}


def _post(app: Flask, path: str, body: dict[str, Any]) -> Any:
    return app.test_client().post(path, json=body, headers=AUTH)


def _only_message(errors: Any) -> str:
    """The single message of a field's error list."""
    assert isinstance(errors, list)
    assert len(errors) == 1
    return str(errors[0])


@pytest.mark.parametrize('address', BAD_ADDRESSES, ids=[repr(address)[:40] for address in BAD_ADDRESSES])
def test_the_rule_refuses_what_is_not_one_bare_address(address: str) -> None:
    with pytest.raises(ValidationError, match='^Not a valid email address: '):
        check_email(address)


@pytest.mark.parametrize('address', GOOD_ADDRESSES)
def test_the_rule_keeps_a_good_address_as_it_was_sent(address: str) -> None:
    assert EventMetaSchema().load({'email': address})['email'] == address


def test_an_event_to_an_address_with_crlf_is_a_422_naming_the_field(app: Flask) -> None:
    response = _post(app, '/api/v1/events', {'meta': {'email': CRLF_ADDRESS}, 'type': 'info', 'fields': {}})

    assert response.status_code == 422
    assert response.json['error']['code'] == 'validation_failed'
    field_errors = response.json['error']['fields']
    assert list(field_errors) == ['meta']
    message = _only_message(field_errors['meta']['email'])
    assert message.startswith('Not a valid email address: ')
    assert 'U+000D' in message  # the client is told which characters are wrong


def test_a_bulk_list_with_one_crlf_address_is_a_422_naming_its_position(app: Flask) -> None:
    audience = {'emails': ['petya@example.com', CRLF_ADDRESS]}
    response = _post(app, '/api/v1/events', {'meta': {'scale': 'bulk', 'audience': audience}, 'type': 'info'})

    assert response.status_code == 422
    meta_errors = response.json['error']['fields']['meta']
    errors = meta_errors['audience']['emails']
    assert list(errors) == ['1']
    assert _only_message(errors['1']).startswith('Not a valid email address: ')


def test_the_address_in_an_events_fields_is_checked_by_the_same_rule(app: Flask) -> None:
    response = _post(app, '/api/v1/events', {'type': 'user_registered', 'fields': {'email': CRLF_ADDRESS}})

    assert response.status_code == 422
    assert response.json['error']['fields'] == {'fields.email': ['not a valid email address']}


@pytest.mark.parametrize(('audience', 'field'), [
    ({'kind': 'user', 'email': CRLF_ADDRESS}, 'email'),
    ({'kind': 'list', 'emails': [CRLF_ADDRESS]}, 'emails'),
])
def test_a_schedule_audience_with_a_crlf_address_is_a_422(app: Flask, audience: dict[str, Any], field: str) -> None:
    response = _post(app, '/api/v1/schedules', {**SCHEDULE, 'audience': audience})

    assert response.status_code == 422
    assert list(response.json['error']['fields']) == ['audience']
    assert list(response.json['error']['fields']['audience']) == [field]
    assert not app.test_client().get('/api/v1/schedules', headers=AUTH).json['items']


def test_the_api_schemas_use_the_one_rule() -> None:
    assert isinstance(EventMetaSchema().fields['email'], EmailAddress)
    assert isinstance(AudienceSchema().fields['email'], EmailAddress)
    for schema in (BulkAudienceSchema(), AudienceSchema()):
        emails = schema.fields['emails']
        assert isinstance(emails, fields.List)
        assert isinstance(emails.inner, EmailAddress)


def test_no_schema_uses_marshmallows_own_email_rule() -> None:
    offenders = []
    for module_info in pkgutil.iter_modules(schema_package.__path__, 'notifier.schemas.'):
        module = importlib.import_module(module_info.name)
        for name, member in inspect.getmembers(module, inspect.isclass):
            if issubclass(member, Schema) and member.__module__ == module.__name__:
                offenders.extend(
                    '{0}.{1}'.format(name, field_name)
                    for field_name, field in member().fields.items()
                    if isinstance(field, fields.Email) or isinstance(getattr(field, 'inner', None), fields.Email)
                )

    assert not offenders, offenders


def test_the_document_shows_the_rule_as_an_email_format(app: Flask) -> None:
    schemas = app.test_client().get('/api/v1/openapi.json').json['components']['schemas']

    meta_email = schemas['EventMeta']['properties']['email']
    listed_emails = schemas['BulkAudience']['properties']['emails']
    assert (meta_email['format'], meta_email['maxLength']) == ('email', 254)
    assert listed_emails['items']['format'] == 'email'


#: Addresses the plain-address shortcut sees: it must answer as email-validator does for each.
SHORTCUT_CASES = (
    *BAD_ADDRESSES,
    *GOOD_ADDRESSES,
    'a.b@example.com', '.ab@example.com', 'ab.@example.com', 'a..b@example.com', 'a+b-c_d@example.com',
    '{0}@example.com'.format('x' * 64), '{0}@example.com'.format('x' * 65), 'a@b@example.com', '@example.com',
    'ab@', 'ab@example', 'ab@example.com.', 'ab@-example.com', 'ab@exa_mple.com', 'ab@example.test',
    'ab@EXAMPLE.COM', 'ab@пример.рф', 'ab@example.com ', 'ab@xn--e1afmkfd.xn--p1ai', 'ab@1.2.3.4',
)


@pytest.mark.parametrize('address', SHORTCUT_CASES, ids=[repr(address)[:40] for address in SHORTCUT_CASES])
def test_the_plain_address_shortcut_agrees_with_email_validator(address: str) -> None:
    try:
        validate_email(address, check_deliverability=False)
    except EmailNotValidError:
        accepted = False
    else:
        accepted = len(address) <= MAX_EMAIL_LENGTH
    for _ in range(2):  # the second time its domain may be remembered
        assert is_email(address) is accepted
