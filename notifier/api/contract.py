"""What each endpoint accepts and answers, for the OpenAPI document.

One entry per Flask endpoint (``blueprint.view``). The document is built from
these entries and the marshmallow schemas the views load and dump with, so
the contract and the code share one source. An endpoint missing here fails
``tests/api/test_openapi.py``: a new route joins the contract (and the
schemathesis run) when it lands.
"""

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any, Final

from notifier.constants import MAX_KEY_LENGTH
from notifier.schemas.errors import ErrorSchema
from notifier.schemas.events import EventSchema
from notifier.schemas.health import HealthSchema, ReadySchema
from notifier.schemas.schedules import ScheduleViewSchema
from notifier.schemas.notifications import (
    AcceptedSchema,
    NotificationPageSchema,
    NotificationQuerySchema,
    NotificationSchema,
)

#: A piece of the OpenAPI document (an operation, a parameter, an answer).
Operation = dict[str, Any]
JSON: Final = 'application/json'
BEARER: Final = 'bearerAuth'
OK: Final = '200'
GET: Final = 'get'

#: Reusable error answers, referenced by name from the operations.
ERROR_RESPONSES: Mapping[str, str] = MappingProxyType({
    'BadRequest': 'The body is not JSON, or a header or query parameter is malformed.',
    'Unauthorized': 'No bearer token, or not one of NOTIFIER_API_TOKENS.',
    'Forbidden': 'The token is known but limited to scopes without the one this operation needs (`x-required-scope`).',
    'NotFound': 'No such resource.',
    'Conflict': 'The Idempotency-Key was used before with another body.',
    'NameTaken': 'A schedule with this name exists.',
    'NotCancellable': 'Sending began: the notification can no longer be cancelled.',
    'WrongState': 'The mailing is not in a state that allows this (for example resuming one that runs).',
    'TooLarge': 'The body is larger than 1 MiB.',
    'ValidationFailed': 'The body is JSON but its fields are invalid; `fields` has the error of each.',
    'Unavailable': 'A dependency (database or broker) does not answer.',
    'ServerError': 'An unexpected error; it was logged, the body says nothing of it.',
})
#: Endpoints that are not part of the API: the document itself and its page.
UNDOCUMENTED: Final = frozenset(('static', 'docs.openapi_document', 'docs.docs_page'))


def body_of(schema: type | dict[str, Any], media_type: str = JSON) -> dict[str, Any]:
    """A body of one schema."""
    return {media_type: {'schema': schema}}


def json_answer(schema: type, description: str) -> dict[str, Any]:
    """A JSON answer of one schema."""
    return {'description': description, 'content': body_of(schema)}


def error_answer(description: str) -> dict[str, Any]:
    """An error answer: the one error shape."""
    return json_answer(ErrorSchema, description)


def parameter(location: str, name: str, schema: Operation, **details: Any) -> Operation:
    """A path, query or header parameter."""
    described: Operation = {'in': location, 'name': name}
    described.update(details)
    described['schema'] = schema
    return described


def operation(operation_id: str, summary: str, answers: Mapping[str, Any], tag: str, **details: Any) -> Operation:
    """An operation anyone may call (see :func:`secured`)."""
    return {
        'operationId': operation_id,
        'tags': [tag],
        'summary': summary,
        **details,
        'security': [],
        'responses': dict(sorted(answers.items())),
    }


def secured(public: Operation) -> Operation:
    """The operation behind the bearer token: it may answer 401, 403 (and, like any, 500)."""
    answers = {**public['responses'], '401': 'Unauthorized', '403': 'Forbidden', '500': 'ServerError'}
    return {**public, 'security': [{BEARER: []}], 'responses': dict(sorted(answers.items()))}


POST_EVENT: Final = secured(operation(
    'postEvent',
    'Announce an event; its notification is stored and queued before the answer',
    {
        OK: json_answer(ScheduleViewSchema, 'A periodic event replayed: the schedule its first request made.'),
        '201': json_answer(
            ScheduleViewSchema, 'A periodic event (`meta.periodic: true`) became this schedule (see `Location`).',
        ),
        '202': json_answer(AcceptedSchema, 'Accepted: stored and queued (or replayed).'),
        '400': 'BadRequest',
        '409': 'Conflict',
        '413': 'TooLarge',
        '422': 'ValidationFailed',
    },
    'events',
    description=(
        'The same Idempotency-Key with the same body answers the first notification again '
        '(`replayed: true`) and sends nothing more; with another body it is a 409. '
        'A periodic event (`meta.periodic: true` with `meta.cron` and `meta.timezone`, or '
        '`meta.interval_seconds`) becomes a schedule, as `POST /api/v1/schedules` makes one: '
        'the answer is that schedule (`201`, or `200` for a replay).'
    ),
    parameters=[parameter(
        'header',
        'Idempotency-Key',
        {'type': 'string', 'minLength': 1, 'maxLength': MAX_KEY_LENGTH},
        required=False,
        description='Makes retries of this request safe (strongly recommended).',
    )],
    requestBody={'required': True, 'content': body_of(EventSchema)},
))
LIST_NOTIFICATIONS: Final = secured(operation(
    'listNotifications',
    'Notifications, newest first, a page at a time',
    {OK: json_answer(NotificationPageSchema, 'A page of notifications.'), '400': 'BadRequest'},
    'notifications',
    description='Follow `next` (as `?before=`) until it is null to read every page.',
    parameters=[{'in': 'query', 'schema': NotificationQuerySchema}],
))
GET_NOTIFICATION: Final = secured(operation(
    'getNotification',
    'One notification and its deliveries',
    {OK: json_answer(NotificationSchema, 'The notification.'), '404': 'NotFound'},
    'notifications',
    parameters=[parameter('path', 'notification_id', {'type': 'string'}, required=True)],
))
HEALTHZ: Final = operation('healthz', 'The process is alive', {OK: json_answer(HealthSchema, 'Alive.')}, 'operations')
READYZ: Final = operation(
    'readyz',
    'The database and the broker answer',
    {OK: json_answer(ReadySchema, 'Ready.'), '503': 'Unavailable'},
    'operations',
)
METRICS: Final = operation(
    'metrics',
    'Prometheus metrics (text exposition format)',
    {OK: {'description': 'The metrics.', 'content': body_of({'type': 'string'}, 'text/plain')}},
    'operations',
)

#: Every documented endpoint and its operations by HTTP method.
OPERATIONS: Mapping[str, Mapping[str, Operation]] = MappingProxyType({
    'api.post_event': MappingProxyType({'post': POST_EVENT}),
    'api.list_notifications': MappingProxyType({GET: LIST_NOTIFICATIONS}),
    'api.get_notification': MappingProxyType({GET: GET_NOTIFICATION}),
    'health.healthz': MappingProxyType({GET: HEALTHZ}),
    'health.readyz': MappingProxyType({GET: READYZ}),
    'metrics.scrape': MappingProxyType({GET: METRICS}),
})
