"""Declaring the whole topology, as every mode does when it connects (idempotent)."""

from collections.abc import Sequence

from notifier.pipeline import topology
from notifier.pipeline.broker import BrokerConnection
from notifier.plugins import default_registry
from notifier.settings import Settings


def declare_topology(broker: BrokerConnection, settings: Settings, channel_names: Sequence[str] | None = None) -> None:
    """Exchanges, work queues (one per installed channel), parking lot and delay queues."""
    names = sorted(default_registry().channels()) if channel_names is None else channel_names
    broker.declare(topology.all_queues(names, settings.delivery_limit, settings.retry_delay_seconds))
