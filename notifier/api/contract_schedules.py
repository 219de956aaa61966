"""The contract of ``/api/v1/schedules`` and of cancelling a notification."""

from collections.abc import Mapping
from types import MappingProxyType
from typing import Final

from notifier.api.contract import GET, OK, Operation, body_of, json_answer, operation, parameter, secured
from notifier.schemas.schedules import CancelledSchema, ScheduleListSchema, ScheduleSchema, ScheduleViewSchema

TAG: Final = 'schedules'
SCHEDULE_ID: Final = parameter('path', 'schedule_id', {'type': 'string'}, required=True)
NOTIFICATION_ID: Final = parameter('path', 'notification_id', {'type': 'string'}, required=True)
INVALID: Final = 'ValidationFailed'
BAD_BODY: Final = 'BadRequest'
MISSING: Final = 'NotFound'
NOT_FOUND_STATUS: Final = '404'

POST_SCHEDULE: Final = secured(operation(
    'postSchedule',
    'Create a periodic notification; it first fires at its first fire time after now',
    {
        '201': json_answer(ScheduleViewSchema, 'Created.'),
        '400': BAD_BODY,
        '409': 'NameTaken',
        '413': 'TooLarge',
        '422': INVALID,
    },
    TAG,
    requestBody={'required': True, 'content': body_of(ScheduleSchema)},
))
LIST_SCHEDULES: Final = secured(operation(
    'listSchedules', 'Every schedule, by name', {OK: json_answer(ScheduleListSchema, 'The schedules.')}, TAG,
))
GET_SCHEDULE: Final = secured(operation(
    'getSchedule',
    'One schedule and its recent occurrences',
    {OK: json_answer(ScheduleViewSchema, 'The schedule.'), NOT_FOUND_STATUS: MISSING},
    TAG,
    parameters=[SCHEDULE_ID],
))
PATCH_SCHEDULE: Final = secured(operation(
    'patchSchedule',
    'Change some fields; the next fire time follows the new timing, nothing fires because of an edit',
    {
        OK: json_answer(ScheduleViewSchema, 'The changed schedule.'),
        '400': BAD_BODY,
        NOT_FOUND_STATUS: MISSING,
        '409': 'NameTaken',
        '413': 'TooLarge',
        '422': INVALID,
    },
    TAG,
    parameters=[SCHEDULE_ID],
    requestBody={'required': True, 'content': body_of(ScheduleSchema)},
))
DELETE_SCHEDULE: Final = secured(operation(
    'deleteSchedule',
    'Delete a schedule and its occurrences (notifications already sent stay)',
    {'204': {'description': 'Deleted.'}, NOT_FOUND_STATUS: MISSING},
    TAG,
    parameters=[SCHEDULE_ID],
))


def _cancel(operation_id: str) -> Operation:
    return secured(operation(
        operation_id,
        'Cancel a notification that was not yet handed to the generator',
        {
            OK: json_answer(CancelledSchema, 'Cancelled.'),
            NOT_FOUND_STATUS: MISSING,
            '409': 'NotCancellable',
        },
        'notifications',
        parameters=[NOTIFICATION_ID],
    ))


SCHEDULE_OPERATIONS: Mapping[str, Mapping[str, Operation]] = MappingProxyType({
    'schedules.post_schedule': MappingProxyType({'post': POST_SCHEDULE}),
    'schedules.list_schedules': MappingProxyType({GET: LIST_SCHEDULES}),
    'schedules.get_schedule': MappingProxyType({GET: GET_SCHEDULE}),
    'schedules.patch_schedule': MappingProxyType({'patch': PATCH_SCHEDULE}),
    'schedules.delete_schedule': MappingProxyType({'delete': DELETE_SCHEDULE}),
    'cancellation.cancel': MappingProxyType({'delete': _cancel('cancelNotification'), 'post': _cancel('postCancel')}),
})
