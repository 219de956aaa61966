"""Declaring the whole topology, as every mode does when it connects (idempotent)."""

import json
import logging
from collections.abc import Sequence
from dataclasses import replace
from typing import Final

from notifier.errors import StartupError
from notifier.pipeline import topology
from notifier.pipeline.broker import BrokerConnection
from notifier.plugins import default_registry
from notifier.settings import Settings

logger = logging.getLogger(__name__)

#: The policy that gives an older parking lot its delivery limit (a policy, since a queue's arguments are fixed).
PARKING_LOT_POLICY: Final = "rabbitmqctl set_policy --apply-to queues notifier-parking-lot {0} '{1}'".format(
    "'^notifier[.]parking-lot$'", json.dumps({'delivery-limit': topology.PARKING_LOT_DELIVERY_LIMIT}),
)
OLD_PARKING_LOT: Final = (
    'the parking lot {0} was declared without a delivery limit by an older version and is kept as it is; '
    'on RabbitMQ 4.x its default limit of 20 lets browsing drop parked messages. Give it the limit with a policy: '
    '{1} (docs/operations.md, "The parking lot")'
)


def _old_parking_lot(error: StartupError) -> bool:
    """Whether the broker refused our parking lot because it exists without a delivery limit."""
    refusal = str(error)
    expected = ("'{0}'".format(topology.DELIVERY_LIMIT), topology.queue_name(topology.PARKING_LOT), 'current is none')
    return all(part in refusal for part in expected)


def _without_delivery_limit(spec: topology.QueueSpec) -> topology.QueueSpec:
    arguments = {name: argument for name, argument in spec.arguments.items() if name != topology.DELIVERY_LIMIT}
    return replace(spec, arguments=arguments)


def declare_queues(broker: BrokerConnection, queues: Sequence[topology.QueueSpec]) -> None:
    """Declare exchanges and ``queues``; an older parking lot is kept (its messages with it), with a warning."""
    try:
        broker.declare(queues)
    except StartupError as error:
        if not _old_parking_lot(error):
            raise
        parking_lot = topology.queue_name(topology.PARKING_LOT)
        broker.declare([_without_delivery_limit(spec) if spec.name == parking_lot else spec for spec in queues])
        logger.warning(OLD_PARKING_LOT.format(parking_lot, PARKING_LOT_POLICY))


def declare_topology(broker: BrokerConnection, settings: Settings, channel_names: Sequence[str] | None = None) -> None:
    """Exchanges, work queues (one per installed channel), parking lot and delay queues."""
    names = sorted(default_registry().channels()) if channel_names is None else channel_names
    declare_queues(broker, topology.all_queues(names, settings.delivery_limit, settings.retry_delay_seconds))
