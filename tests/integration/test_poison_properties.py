"""Random bodies into every stage's runner: each is parked with its reason and acked, never a crash.

Property-based (Hypothesis): any JSON value, and bytes that are not JSON at all,
given to the router, generator, worker and sender through the real runner.
"""

import json
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import pytest
from flask import Flask
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from notifier.constants import PARK_REASON_HEADER
from notifier.pipeline import topology
from notifier.pipeline.envelopes import IncomingMessage, OutgoingMessage
from notifier.pipeline.consumer import ConsumerProcess
from notifier.pipeline.runner import StageRunner, StageWiring
from notifier.pipeline.stages import STAGES

JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=40),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=20), children, max_size=5),
    max_leaves=20,
)
#: Bodies shaped like each stage's message, with values of any type: they reach the schemas' field checks.
SHAPED = st.fixed_dictionaries({}, optional={
    name: JSON_VALUES for name in ('notification_id', 'delivery_id', 'channel', 'email', 'template', 'content')
})
BODIES = JSON_VALUES.map(lambda found: json.dumps(found).encode()) | SHAPED.map(
    lambda found: json.dumps(found).encode(),
) | st.binary(max_size=60)


class RecordingBroker:
    """What the runner publishes and acks (the runner's side of a broker connection)."""

    def __init__(self) -> None:
        self.published: list[tuple[str, Mapping[str, Any]]] = []
        self.acked: list[int] = []

    def publish_many(self, messages: Sequence[OutgoingMessage]) -> None:
        self.published.extend((message.routing_key, dict(message.headers or {})) for message in messages)

    def ack_all(self, messages: Iterable[IncomingMessage]) -> None:
        self.acked.extend(message.delivery_tag for message in messages)


@pytest.mark.parametrize('stage_name', sorted(STAGES))
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=BODIES)
def test_any_body_is_parked_with_a_reason_and_acked(app: Flask, stage_name: str, body: bytes) -> None:
    broker = RecordingBroker()
    process = ConsumerProcess(app, (stage_name,))
    wiring = StageWiring(app=app, broker=broker, make_context=process.make_context, retry_delays=(1,))
    runner = StageRunner(wiring, stage_name, STAGES[stage_name].function)

    runner.on_message(IncomingMessage(
        body=body, routing_key='any', delivery_tag=7, headers={}, message_id='m', redelivered=False,
    ))

    assert broker.acked == [7]
    assert [key for key, _ in broker.published] == [topology.PARKING_LOT]
    assert broker.published[0][1][PARK_REASON_HEADER]
