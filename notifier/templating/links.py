"""The ``short`` Jinja filter: ``{{ url | short }}`` becomes ``<public URL>/s/<code>``.

The filter checks the target first (http or https, a host of
``NOTIFIER_LINK_HOSTS``); a refused link is a :class:`TemplateError` with the
reason, which fails the delivery at render time. It stores a link only when
the template is rendered for a delivery (the worker puts ``delivery_id`` and
``notification_id`` into the template's fields); a delivery rendered again
finds the link it made the first time, so its codes do not change. Rendered
for no delivery (a preview), it returns the checked target as it is.
"""

from collections.abc import Callable, Mapping
from typing import Any, Final

import jinja2

from notifier.extensions import db
from notifier.links.codes import LinkRefusedError, allowed_target
from notifier.links.settings import LinkSettings, load_link_settings
from notifier.links.store import shorten
from notifier.models.base import utcnow
from notifier.settings import Settings
from notifier.templating.store import TemplateError

DELIVERY_FIELD: Final = 'delivery_id'
NOTIFICATION_FIELD: Final = 'notification_id'
FILTER_NAME: Final = 'short'

#: Stores a link: (target, delivery id, notification id) -> the short URL.
Shortener = Callable[[str, str, str | None], str]


def delivery_fields(delivery_id: str, notification_id: str) -> dict[str, str]:
    """The template fields that bind the ``short`` filter's links to a delivery."""
    return {DELIVERY_FIELD: delivery_id, NOTIFICATION_FIELD: notification_id}


def short_filter(allowed_hosts: tuple[str, ...], shortener: Shortener) -> Callable[..., str]:
    """The filter, checking targets against ``allowed_hosts`` and storing links with ``shortener``."""

    @jinja2.pass_context
    def short(context: jinja2.runtime.Context, url: object) -> str:  # noqa: WPS430 - a filter closes over its store
        if not isinstance(url, str):
            raise TemplateError('the short filter needs a link, got {0}'.format(type(url).__name__))
        try:
            target = allowed_target(url, allowed_hosts)
        except LinkRefusedError as error:
            raise TemplateError('link refused: {0}'.format(error)) from None
        delivery_id = context.get(DELIVERY_FIELD)
        if not isinstance(delivery_id, str):
            return target
        notification_id = context.get(NOTIFICATION_FIELD)
        return shortener(target, delivery_id, notification_id if isinstance(notification_id, str) else None)

    return short


def database_shortener(base_url: str, link_settings: LinkSettings) -> Shortener:
    """Stores links with the current session (the worker's, inside its app context)."""
    root = base_url.rstrip('/')

    def store_link(target: str, delivery_id: str, notification_id: str | None) -> str:  # noqa: WPS430
        ttl = link_settings.ttl
        expires_at = utcnow() + ttl if ttl is not None else None
        link = shorten(db.session(), target, delivery_id, notification_id, expires_at)
        return '{0}/s/{1}'.format(root, link.code)

    return store_link


def link_filters(settings: Settings) -> Mapping[str, Callable[..., Any]]:
    """The template store's link filters, configured from the settings and ``NOTIFIER_LINK_*``."""
    link_settings = load_link_settings()
    base_url = settings.public_url or 'http://{0}:{1}'.format(settings.api_host, settings.api_port)
    return {FILTER_NAME: short_filter(link_settings.allowed_hosts, database_shortener(base_url, link_settings))}
