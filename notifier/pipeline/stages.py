"""The stages a ``consume`` process can run, the queues each one reads, and how it takes batches."""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from types import MappingProxyType

from notifier.pipeline import topology
from notifier.pipeline.generator import generate_batch
from notifier.pipeline.router import route_batch
from notifier.pipeline.stage_calls import BatchStage
from notifier.pipeline.sender import send_batch
from notifier.pipeline.worker import work_batch


@dataclass(frozen=True)
class StageSpec:
    """A stage: its batch function, the queues it reads, and its largest batch."""

    name: str
    function: BatchStage
    routing_key: str | None

    laned: bool = True
    #: The largest batch of its bulk lane; ``None``: half the queue's prefetch. A mailing's generator
    #: message is a whole page already.
    bulk_batch_limit: int | None = None

    def routing_keys(self, channels: Iterable[str]) -> list[str]:
        """The routing keys (and so queues) this stage consumes: both lanes, the instant one first."""
        routes = [self.routing_key] if self.routing_key else [topology.channel_route(name) for name in channels]
        if not self.laned:
            return routes
        return [lane for route in routes for lane in topology.both_lanes(route)]


STAGES: Mapping[str, StageSpec] = MappingProxyType({
    'router': StageSpec('router', route_batch, topology.NOTIFICATIONS, laned=False),
    'generator': StageSpec('generator', generate_batch, topology.GENERATOR, bulk_batch_limit=1),
    'worker': StageSpec('worker', work_batch, topology.WORKER),
    'sender': StageSpec('sender', send_batch, None),
})
