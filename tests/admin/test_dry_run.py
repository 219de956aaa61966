"""The dry run as a service: channels with other addresses, and an audience bigger than the limit."""

import dataclasses

from flask import Flask

from notifier.admin.mailing_support import dry_run_setup
from notifier.extensions import db
from notifier.models import Mailing, Notification
from notifier.models.base import utcnow
from notifier.services.dry_run import DryRun, dry_run
from notifier.services.mailing_drafts import save_draft
from notifier.services.mailing_plans import MailingPlan
from notifier.settings import settings_of
from tests.admin.mailing_helpers import fill_directory


def _dry_run_of(flask_app: Flask, plan: MailingPlan, limit: int | None = None) -> DryRun:
    with flask_app.test_request_context():
        mailing = save_draft(db.session(), plan)
        notification = db.session.get_one(Notification, mailing.notification_id)
        setup = dry_run_setup(settings_of(flask_app))
        if limit is not None:
            setup = dataclasses.replace(setup, limit=limit)
        return dry_run(setup, notification, db.session.get_one(Mailing, mailing.notification_id), utcnow())


def test_each_channel_needs_its_own_address(admin_app: Flask) -> None:
    fill_directory(admin_app)
    plan = MailingPlan(
        notification_type='info', template='info', locale='ru', channels=('email', 'sms'),
        audience={'segment': 'vip'}, template_fields={'title': 't', 'text': 'x'},
    )

    found = _dry_run_of(admin_app, plan)

    assert (found.examined, found.reached, found.messages, found.complete) == (5, 3, 3, True)
    assert found.skipped == {'user has no phone number': 3, 'opted out': 2, 'user has no email address': 2}
    assert [sample.channel for sample in found.samples] == ['email', 'email', 'email']
    assert not found.problems


def test_a_big_audience_is_counted_on_its_first_part(admin_app: Flask) -> None:
    fill_directory(admin_app)
    plan = MailingPlan(
        notification_type='info', template='info', locale='ru', channels=('email',),
        audience={'segment': 'all'}, template_fields={'title': 't', 'text': 'x'},
    )

    found = _dry_run_of(admin_app, plan, limit=2)

    assert (found.total, found.examined, found.reached, found.complete) == (6, 2, 2, False)
