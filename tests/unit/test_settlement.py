"""A notification's final status from its tally of deliveries."""

import pytest

from notifier.services.settlement import DeliveryTally


@pytest.mark.parametrize(('counts', 'status'), [
    ((2, 0, 2, 0, 2), 'sent'),
    ((3, 0, 2, 0, 3), 'sent'),  # one skipped (opted out): not a failure
    ((3, 0, 1, 2, 3), 'partially_sent'),
    ((2, 0, 0, 1, 2), 'failed'),
    ((2, 0, 0, 0, 2), 'skipped'),
    ((0, 0, 0, 0, 0), 'skipped'),  # an empty audience
    ((2, 1, 1, 0, 2), None),  # one still pending
    ((1, 0, 1, 0, 2), None),  # one not yet made by the worker
])
def test_the_final_status_follows_the_deliveries(counts: tuple[int, int, int, int, int], status: str | None) -> None:
    tally = DeliveryTally(*counts)  # rows, unfinished, sent, failed, expected

    assert tally.final_status == status
