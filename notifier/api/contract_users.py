"""The contract of ``/api/v1/users/<id>/preferences`` and of the one-click unsubscribe pages."""

from collections.abc import Mapping
from types import MappingProxyType
from typing import Final

from notifier.api.contract import GET, OK, Operation, body_of, json_answer, operation, parameter, secured
from notifier.schemas.preferences import PreferencesResponseSchema, PreferencesSchema

TAG: Final = 'preferences'
HTML: Final = 'text/html'
INVALID: Final = 'ValidationFailed'
TEXT: Final = MappingProxyType({'type': 'string'})
#: Unsubscribe tokens are far shorter; a longer one is refused before any work.
MAX_TOKEN_LENGTH: Final = 512
USER_ID: Final = parameter('path', 'user_id', {**TEXT, 'maxLength': 64}, required=True)
TOKEN: Final = parameter(
    'path',
    'token',
    {**TEXT, 'maxLength': MAX_TOKEN_LENGTH},
    required=True,
    description='The signed token of the link in the mail.',
)


def _page(description: str) -> Operation:
    return {'description': description, 'content': body_of(dict(TEXT), HTML)}


GET_PREFERENCES: Final = secured(operation(
    'getPreferences',
    "A user's preferences; everything is on until they choose otherwise",
    {OK: json_answer(PreferencesResponseSchema, 'The preferences.'), '422': INVALID},
    TAG,
    parameters=[USER_ID],
))
PUT_PREFERENCES: Final = secured(operation(
    'putPreferences',
    "Replace a user's preferences (categories per channel, global opt-out, quiet hours, time zone)",
    {
        OK: json_answer(PreferencesResponseSchema, 'The stored preferences.'),
        '400': 'BadRequest',
        '413': 'TooLarge',
        '422': INVALID,
    },
    TAG,
    description='Transactional notifications cannot be turned off. Repeating the same PUT changes nothing.',
    parameters=[USER_ID],
    requestBody={'required': True, 'content': body_of(PreferencesSchema)},
))
CONFIRM_UNSUBSCRIBE: Final = operation(
    'confirmUnsubscribe',
    'The page of an unsubscribe link: a button, nothing changes yet (mail scanners follow links)',
    {OK: _page('The confirmation page.'), '400': _page('The token is forged or damaged.')},
    TAG,
    parameters=[TOKEN],
)
ONE_CLICK_UNSUBSCRIBE: Final = operation(
    'oneClickUnsubscribe',
    "Unsubscribe at once (RFC 8058 one-click, or the page's button); no login, the token is the proof",
    {OK: _page('Unsubscribed.'), '400': _page('The token is forged or damaged.')},
    TAG,
    parameters=[TOKEN],
    requestBody={
        'required': False,
        'content': body_of(
            {'type': 'object', 'properties': {'List-Unsubscribe': {**TEXT, 'enum': ['One-Click']}}},
            'application/x-www-form-urlencoded',
        ),
    },
)

USER_OPERATIONS: Mapping[str, Mapping[str, Operation]] = MappingProxyType({
    'preferences.get_preferences': MappingProxyType({GET: GET_PREFERENCES}),
    'preferences.put_preferences': MappingProxyType({'put': PUT_PREFERENCES}),
    'unsubscribe.confirm_unsubscribe': MappingProxyType({GET: CONFIRM_UNSUBSCRIBE}),
    'unsubscribe.one_click_unsubscribe': MappingProxyType({'post': ONE_CLICK_UNSUBSCRIBE}),
})
