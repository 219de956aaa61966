"""The fields a preview renders with: the sample JSON, over a chosen user's own fields."""

import json
from typing import Any

from notifier.extensions import db
from notifier.pipeline.users_setup import directory_from_settings
from notifier.settings import Settings
from notifier.users import DirectoryUnavailableError, LocalUserDirectory, UserDirectory


class PreviewFieldsError(ValueError):
    """The sample fields or the chosen user cannot be used; the message says why."""


def sample_fields(raw: str) -> dict[str, Any]:
    """The sample fields typed in the editor: a JSON object (empty text is no fields)."""
    if not raw.strip():
        return {}
    try:
        loaded = json.loads(raw)
    except ValueError as error:
        raise PreviewFieldsError('the sample fields are not valid JSON: {0}'.format(error)) from None
    if not isinstance(loaded, dict):
        raise PreviewFieldsError('the sample fields must be a JSON object, like {"name": "Вася"}')
    return loaded


def user_directory(settings: Settings) -> UserDirectory:
    """The user directory of this deployment (the local table when no auth service is configured)."""
    return directory_from_settings(settings) or LocalUserDirectory(db.session())


def preview_fields(settings: Settings, raw_sample: str, user_id: str | None) -> dict[str, Any]:
    """What the template gets: the user's fields (when a user is chosen), then the sample's, which win."""
    fields = sample_fields(raw_sample)
    if not user_id:
        return fields
    try:
        profile = user_directory(settings).get(user_id)
    except DirectoryUnavailableError as error:
        raise PreviewFieldsError('the user directory did not answer: {0}'.format(error)) from None
    if profile is None:
        raise PreviewFieldsError('no user with id {0!r} in the user directory'.format(user_id))
    return {**profile.template_fields(), **fields}
