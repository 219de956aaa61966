"""What the mailing pages need besides forms and progress: the dry run of a draft, template names."""

import datetime as dt
from collections.abc import Sequence

from notifier.admin.previews import user_directory
from notifier.admin.template_files import file_templates
from notifier.extensions import db
from notifier.pipeline.users_setup import links_from_settings
from notifier.plugins import default_registry
from notifier import models
from notifier.services.dry_run import DryRun, DryRunSetup, dry_run
from notifier.services.reach import Reach
from notifier.services.samples import SampleRenderer
from notifier.services.templates import newest_versions
from notifier.settings import Settings
from notifier.templating.stored import template_store
from notifier.users import DirectoryUnavailableError


def dry_run_setup(settings: Settings) -> DryRunSetup:
    """The dry run reads what the generator and the worker read: this deployment's directory, templates, channels."""
    address_kinds = {
        name: channel_info.channel_class.address_kind
        for name, channel_info in default_registry().channels().items()
    }
    return DryRunSetup(
        reach=Reach(session=db.session(), address_kinds=address_kinds),
        samples=SampleRenderer(templates=template_store(settings), unsubscribe=links_from_settings(settings)),
        directory=user_directory(settings),
    )


def draft_dry_run(
    settings: Settings, notification: models.Notification, mailing: models.Mailing, moment: dt.datetime,
) -> tuple[DryRun | None, str | None]:
    """The dry run of a draft at ``moment``, or why there is none."""
    try:
        return dry_run(dry_run_setup(settings), notification, mailing, moment), None
    except DirectoryUnavailableError as error:
        return None, 'The user directory did not answer: {0}'.format(error)


def template_names(settings: Settings) -> Sequence[str]:
    """Every template name a mailing may use (stored or a file)."""
    stored = {row.name for row in newest_versions(db.session())}
    files = {name for _channel, name, _locale in file_templates(settings)}
    return sorted(stored | files)
