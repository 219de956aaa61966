"""The worker: renders each recipient's message, records the delivery, queues it for sending.

It works on a batch (a page of a mailing, or what arrived together): the
batch's delivery rows (``UNIQUE(notification_id, recipient, channel)``) are
created with one ``INSERT … ON CONFLICT DO NOTHING`` and read back with one
``SELECT``, opt-outs are checked with one read per category, and the batch
commits once. A redelivered worker message finds its row and, unless it is
final, forwards the same delivery again, which the sender sends at most once.

Preferences are checked again here (an opt-out that arrived while the message
waited is honoured: the delivery is ``skipped: opted out``), and every
non-transactional message gets its signed unsubscribe link: the template's
``{{ unsubscribe_url }}`` and the ``List-Unsubscribe`` headers (RFC 8058).
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from notifier.models import DeliveryState, NotificationStatus
from notifier.models.delivery import FINAL_STATES, delivery_id_for
from notifier.notification_types import Category, category_of
from notifier.pipeline import delivery_rows, topology
from notifier.pipeline.context import StageContext
from notifier.pipeline.messages import WorkerMessageSchema, load_message
from notifier.pipeline.notification_batches import NotificationFacts, facts_named, missing
from notifier.pipeline.outcomes import Done, Forward, Outcome, Park, PoisonMessageError
from notifier.pipeline.stage_calls import Body
from notifier.preferences.subjects import Recipient
from notifier.templating.links import delivery_fields
from notifier.templating.store import RenderedContent, TemplateError

WORKER_MESSAGE = WorkerMessageSchema
EMAIL = 'email'
NOTIFICATION_ID = 'notification_id'
CHANNEL = 'channel'


@dataclass(frozen=True, eq=False)
class Job:
    """One worker message of a batch, with its notification and delivery."""

    index: int
    message: Mapping[str, Any]
    notification: NotificationFacts
    delivery_id: str

    @property
    def category(self) -> str:
        """The message's category (a message from before categories: the type's)."""
        return str(self.message['category'] or category_of(self.notification.type))

    @property
    def email(self) -> str:
        """The recipient's address on the channel (an email address, a phone, a push token)."""
        return str(self.message[EMAIL])

    @property
    def channel(self) -> str:
        """The channel of the delivery."""
        return str(self.message[CHANNEL])

    @property
    def recipient(self) -> Recipient:
        """Whose preferences apply."""
        return Recipient(user_id=self.message['user_id'], email=self.email)


def channel_message(
    job: Job, rendered: RenderedContent, category: str, headers: Mapping[str, str],
) -> Forward:
    """The sender's message: a rendered message for one delivery (the brief's email queue shape).

    A mailing's delivery takes the channel's bulk lane.
    """
    channel = job.channel
    return Forward(
        routing_key=topology.lane_route(topology.channel_route(channel), job.notification.is_bulk),
        body={
            'delivery_id': job.delivery_id,
            NOTIFICATION_ID: job.notification.id,
            CHANNEL: channel,
            EMAIL: job.email,
            'content': {
                'subject': rendered.subject,
                'html': rendered.html,
                'text': rendered.text,
                'blocks': dict(rendered.blocks),
            },
            'user_id': job.message['user_id'],
            'category': category,
            'headers': dict(headers),
            'accepted_at': job.notification.created_at.isoformat(),
            'urgency': job.notification.urgency,
            'scale': job.notification.scale,
        },
        message_id='send:{0}'.format(job.delivery_id),
    )


def _unsubscribe_url(context: StageContext, recipient: Recipient, category: str) -> str | None:
    """The signed unsubscribe link of this recipient and category; none for transactional mail."""
    subject = recipient.unsubscribe_subject
    if category == Category.transactional or context.unsubscribe is None or subject is None:
        return None
    return context.unsubscribe.url(subject, category)


def _render(context: StageContext, job: Job, unsubscribe_url: str | None) -> RenderedContent:
    """Render the template; the link is ours even if the event sent a field of the same name."""
    message = job.message
    template_fields = {EMAIL: job.email, **message['template_fields']}
    template_fields.update(delivery_fields(job.delivery_id, job.notification.id))  # short links bind to these
    if unsubscribe_url is not None:
        template_fields['unsubscribe_url'] = unsubscribe_url
    return context.templates.render(
        job.channel, message['template'], message['locale'], template_fields, message['templates_as_of'],
    )


def work(body: Mapping[str, Any], context: StageContext) -> Outcome:
    """Render and record one recipient's message."""
    return work_batch([body], context)[0]


def work_batch(bodies: Sequence[Body], context: StageContext) -> list[Outcome]:
    """Render and record a batch of recipients' messages; one outcome per message, one commit."""
    outcomes: list[Outcome] = [Done() for _ in bodies]
    jobs = _jobs(context, bodies, outcomes)
    states = _ensure_deliveries(context, jobs)
    live = [job for job in jobs if states.get(job.delivery_id) not in FINAL_STATES]
    skipped = delivery_rows.skip_opted_out(context.session, [
        delivery_rows.OptOutCheck(job.delivery_id, job.recipient, job.category, job.channel)
        for job in live if states.get(job.delivery_id) == DeliveryState.pending
    ])
    failures: dict[str, str] = {}
    for job in live:
        if job.delivery_id not in skipped:
            outcomes[job.index] = _rendered(context, job, failures)
    delivery_rows.fail_each(context.session, failures)
    context.session.commit()
    return outcomes


def _jobs(context: StageContext, bodies: Sequence[Body], outcomes: list[Outcome]) -> list[Job]:
    """The messages to work on; a poison one, or one of a notification gone or cancelled, has its outcome now."""
    loaded: dict[int, dict[str, Any]] = {}
    for index, body in enumerate(bodies):
        try:
            loaded[index] = load_message(WORKER_MESSAGE, body)
        except PoisonMessageError as error:
            outcomes[index] = Park(str(error))
    notifications = facts_named(context, {message[NOTIFICATION_ID] for message in loaded.values()})
    jobs = []
    for index, message in loaded.items():
        notification = notifications.get(message[NOTIFICATION_ID])
        if notification is None:
            outcomes[index] = missing(message[NOTIFICATION_ID])
        elif notification.status != NotificationStatus.cancelled:  # a cancelled mailing's queued rest is dropped
            delivery_id = delivery_id_for(notification.id, message[EMAIL], message[CHANNEL])
            jobs.append(Job(index, message, notification, delivery_id))
    return jobs


def _ensure_deliveries(context: StageContext, jobs: Sequence[Job]) -> dict[str, str]:
    """Create the batch's delivery rows that are new; the state of each (a replay makes failed ones pending)."""
    delivery_rows.insert_pending(context.session, [
        (job.delivery_id, job.notification.id, job.email, job.channel)
        for job in {job.delivery_id: job for job in jobs}.values()
    ], context.clock())
    states = delivery_rows.states_of(context.session, [job.delivery_id for job in jobs])
    if context.replayed:  # the operator fixed the cause and asks again
        failed = [delivery_id for delivery_id, state in states.items() if state == DeliveryState.failed]
        moved = delivery_rows.move(context.session, failed, DeliveryState.failed, {'state': DeliveryState.pending})
        for delivery_id in moved:
            states[delivery_id] = DeliveryState.pending
    return states


def _rendered(context: StageContext, job: Job, failures: dict[str, str]) -> Outcome:
    channel = job.channel
    if channel not in context.channels:
        return _fail(failures, job, 'no installed plugin provides channel {0!r}'.format(channel))
    category = job.category
    unsubscribe_url = _unsubscribe_url(context, job.recipient, category)
    try:
        rendered = _render(context, job, unsubscribe_url)
    except TemplateError as error:
        return _fail(failures, job, str(error))
    headers = context.unsubscribe.headers(unsubscribe_url) if context.unsubscribe and unsubscribe_url else {}
    return Done(forward=[channel_message(job, rendered, category, headers)])


def _fail(failures: dict[str, str], job: Job, reason: str) -> Park:
    failures[job.delivery_id] = reason
    return Park(reason)
