"""The contract of the short links' redirect (``/s/<code>``) and of a notification's click counts."""

from collections.abc import Mapping
from types import MappingProxyType
from typing import Final

from notifier.api.contract import GET, OK, Operation, body_of, json_answer, operation, parameter, secured
from notifier.schemas.links import NotificationClicksSchema

TAG: Final = 'links'
STRING: Final = MappingProxyType({'type': 'string'})
HTML: Final = 'text/html'
CODE: Final = parameter(
    'path',
    'code',
    {**STRING, 'maxLength': 64},
    required=True,
    description='The code of a short link (16 characters of A-Z a-z 0-9 - _).',
)

FOLLOW_SHORT_LINK: Final = operation(
    'followShortLink',
    'Follow a short link of a notification: a redirect to its target; every GET counts one click',
    {
        '302': {
            'description': 'To the target (an http or https link to an allowed host).',
            'headers': {'Location': {'schema': dict(STRING)}},
        },
        '404': {
            'description': 'No such link, or it expired (a page for people).',
            'content': body_of(dict(STRING), HTML),
        },
    },
    TAG,
    description='Public: recipients follow it from their mail. A HEAD redirects without counting a click.',
    parameters=[CODE],
)
GET_NOTIFICATION_CLICKS: Final = secured(operation(
    'getNotificationClicks',
    "Clicks on a notification's short links, per target",
    {OK: json_answer(NotificationClicksSchema, 'The click counts.'), '404': 'NotFound'},
    TAG,
    parameters=[parameter('path', 'notification_id', dict(STRING), required=True)],
))

LINK_OPERATIONS: Mapping[str, Mapping[str, Operation]] = MappingProxyType({
    'short_links.follow_short_link': MappingProxyType({GET: FOLLOW_SHORT_LINK}),
    'link_clicks.notification_clicks': MappingProxyType({GET: GET_NOTIFICATION_CLICKS}),
})
