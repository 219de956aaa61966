"""Every documented endpoint: the core API's, the schedules' and the users'."""

from collections.abc import Mapping
from types import MappingProxyType

from notifier.api.contract import OPERATIONS, Operation
from notifier.api.contract_batches import BATCH_OPERATIONS
from notifier.api.contract_inbox import INBOX_OPERATIONS
from notifier.api.contract_links import LINK_OPERATIONS
from notifier.api.contract_mailings import MAILING_OPERATIONS
from notifier.api.contract_schedules import SCHEDULE_OPERATIONS
from notifier.api.contract_users import USER_OPERATIONS

DOCUMENTED: Mapping[str, Mapping[str, Operation]] = MappingProxyType({
    **OPERATIONS,
    **BATCH_OPERATIONS,
    **SCHEDULE_OPERATIONS,
    **USER_OPERATIONS,
    **MAILING_OPERATIONS,
    **LINK_OPERATIONS,
    **INBOX_OPERATIONS,
})
