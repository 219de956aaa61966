"""Queue arguments that carry the delivery guarantees."""

from notifier.pipeline import topology


def test_work_queues_are_quorum_with_a_delivery_limit_into_the_parking_lot() -> None:
    queues = {spec.name: spec for spec in topology.work_queues(['email', 'sms'], delivery_limit=5)}

    assert set(queues) == {
        'notifier.notifications', 'notifier.generator', 'notifier.worker',
        'notifier.channel.email', 'notifier.channel.sms', 'notifier.parking-lot',
        # the bulk lanes: a mailing's messages never sit in front of instant ones
        'notifier.generator.bulk', 'notifier.worker.bulk', 'notifier.channel.email.bulk', 'notifier.channel.sms.bulk',
    }
    assert queues['notifier.worker.bulk'].arguments == queues['notifier.worker'].arguments
    worker = queues['notifier.worker'].arguments
    assert worker['x-queue-type'] == 'quorum'
    assert worker['x-delivery-limit'] == 5
    assert worker['x-dead-letter-routing-key'] == 'parking-lot'
    assert worker['x-dead-letter-strategy'] == 'at-least-once'
    parking_lot = queues['notifier.parking-lot'].arguments
    assert 'x-dead-letter-exchange' not in parking_lot
    # RabbitMQ 4.x would give it a limit of 20 that browsing reaches; -1 drops at once on 3.x
    assert parking_lot['x-delivery-limit'] == 2147483647


def test_one_delay_queue_per_tier_with_the_ttl_on_the_queue() -> None:
    delays = topology.delay_queues([10, 60])

    assert [(spec.name, spec.arguments['x-message-ttl']) for spec in delays] == [
        ('notifier.delay.10s', 10000), ('notifier.delay.60s', 60000),
    ]
    assert all('x-dead-letter-routing-key' not in spec.arguments for spec in delays)
    # x-match=all ignores x- headers: the tier header must not start with x-
    assert delays[0].binding_arguments == {'x-match': 'all', 'notifier-delay': '10'}
