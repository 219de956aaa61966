"""The stages a ``consume`` process can run, and the queues each one reads."""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from types import MappingProxyType

from notifier.pipeline import topology
from notifier.pipeline.generator import generate
from notifier.pipeline.router import route
from notifier.pipeline.runner import Stage
from notifier.pipeline.sender import send
from notifier.pipeline.worker import work


@dataclass(frozen=True)
class StageSpec:
    """A stage: its function and whether it reads one queue per channel."""

    name: str
    function: Stage
    routing_key: str | None

    laned: bool = True

    def routing_keys(self, channels: Iterable[str]) -> list[str]:
        """The routing keys (and so queues) this stage consumes: both lanes, the instant one first."""
        routes = [self.routing_key] if self.routing_key else [topology.channel_route(name) for name in channels]
        if not self.laned:
            return routes
        return [lane for route in routes for lane in topology.both_lanes(route)]


STAGES: Mapping[str, StageSpec] = MappingProxyType({
    'router': StageSpec('router', route, topology.NOTIFICATIONS, laned=False),
    'generator': StageSpec('generator', generate, topology.GENERATOR),
    'worker': StageSpec('worker', work, topology.WORKER),
    'sender': StageSpec('sender', send, None),
})
