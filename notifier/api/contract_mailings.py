"""The contract of ``/api/v1/mailings`` and ``/api/v1/limits``."""

from collections.abc import Mapping
from types import MappingProxyType
from typing import Final

from notifier.api.contract import GET, OK, Operation, body_of, json_answer, operation, parameter, secured
from notifier.schemas.mailings import LimitListSchema, LimitSchema, ProgressSchema, RateBodySchema

TEXT: Final = MappingProxyType({'type': 'string'})
NOTIFICATION_ID: Final = parameter('path', 'notification_id', dict(TEXT), required=True)
LIMIT_NAME: Final = parameter('path', 'name', {**TEXT, 'maxLength': 128}, required=True)
MISSING: Final = 'NotFound'
ACTION: Final = parameter('path', 'action', {**TEXT, 'enum': ['pause', 'resume', 'cancel']}, required=True)
NOT_FOUND: Final = '404'

GET_MAILING: Final = secured(operation(
    'getMailing',
    "A bulk notification's progress: total, queued, sent, skipped (with reasons), failed, retrying, rate, ETA",
    {OK: json_answer(ProgressSchema, 'The progress.'), NOT_FOUND: MISSING},
    'mailings',
    parameters=[NOTIFICATION_ID],
))
CHANGE_MAILING: Final = secured(operation(
    'changeMailing',
    'Pause (between pages), resume (from the checkpoint) or cancel (skips what is not sent)',
    {OK: json_answer(ProgressSchema, 'The progress after the change.'), NOT_FOUND: MISSING, '409': 'WrongState'},
    'mailings',
    parameters=[NOTIFICATION_ID, ACTION],
))
LIST_LIMITS: Final = secured(operation(
    'listLimits', 'Every run-time rate limit', {OK: json_answer(LimitListSchema, 'The limits.')}, 'limits',
))
PUT_LIMIT: Final = secured(operation(
    'putLimit',
    'Set a rate limit; every process picks it up within seconds, no restart',
    {OK: json_answer(LimitSchema, 'The limit.'), '422': 'ValidationFailed', '400': 'BadRequest', '413': 'TooLarge'},
    'limits',
    parameters=[LIMIT_NAME],
    requestBody={'required': True, 'content': body_of(RateBodySchema)},
))
DELETE_LIMIT: Final = secured(operation(
    'deleteLimit', 'Remove a rate limit (unlimited)', {'204': {'description': 'Removed.'}}, 'limits',
    parameters=[LIMIT_NAME],
))

MAILING_OPERATIONS: Mapping[str, Mapping[str, Operation]] = MappingProxyType({
    'mailings.get_mailing': MappingProxyType({GET: GET_MAILING}),
    'mailings.change_mailing': MappingProxyType({'post': CHANGE_MAILING}),
    'mailings.list_limits': MappingProxyType({GET: LIST_LIMITS}),
    'mailings.put_limit': MappingProxyType({'put': PUT_LIMIT}),
    'mailings.delete_limit': MappingProxyType({'delete': DELETE_LIMIT}),
})
