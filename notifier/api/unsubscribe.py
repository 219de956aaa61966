"""One-click unsubscribe: ``/unsubscribe/<signed token>``, public, no login.

``GET`` (a person following the link, or a mail scanner prefetching it) only
shows a page with a button; ``POST`` (that button, or a mail client's RFC 8058
one-click request ``List-Unsubscribe=One-Click``) unsubscribes at once. A
token that was not signed with our secret, or was altered, is refused.
"""

from collections.abc import Mapping
from http import HTTPStatus
from types import MappingProxyType

from flask import Blueprint, Response, render_template_string

from notifier.api.contract_users import MAX_TOKEN_LENGTH
from notifier.extensions import db
from notifier.pipeline.users_setup import unsubscribe_secret
from notifier.preferences.unsubscribe import InvalidTokenError, unsubscribe, verify
from notifier.settings import settings_of

unsubscribe_blueprint = Blueprint('unsubscribe', __name__)

CATEGORY_LABELS: Mapping[str, str] = MappingProxyType({
    'service': 'уведомления о новых сериях и сервисе',
    'marketing': 'новости и специальные предложения',
})
#: The token is in the URL: keep it out of caches, referrers and search engines.
PAGE_HEADERS: Mapping[str, str] = MappingProxyType({
    'Cache-Control': 'no-store',
    'Referrer-Policy': 'no-referrer',
    'X-Robots-Tag': 'noindex',
    'Content-Security-Policy': "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'",
})

PAGE = """<!DOCTYPE html>
<html lang="ru">
<head><meta charset="utf-8"><title>{{ title }}</title></head>
<body style="font-family: sans-serif; max-width: 32em; margin: 3em auto">
  <h1>{{ title }}</h1>
  <p>{{ text }}</p>
  {% if confirm %}
  <form method="post"><button type="submit" name="List-Unsubscribe" value="One-Click">Отписаться</button></form>
  {% endif %}
</body>
</html>
"""


def _page(status: int, title: str, text: str, confirm: bool = False) -> Response:
    response = Response(render_template_string(PAGE, title=title, text=text, confirm=confirm), status=status)
    response.headers.update(PAGE_HEADERS)
    return response


def _invalid() -> Response:
    return _page(
        HTTPStatus.BAD_REQUEST,
        'Ссылка недействительна',
        'Эта ссылка для отписки повреждена. Воспользуйтесь ссылкой из последнего письма.',
    )


@unsubscribe_blueprint.get('/unsubscribe/<token>')
def confirm_unsubscribe(token: str) -> Response:
    """A page with a button; following the link changes nothing."""
    if len(token) > MAX_TOKEN_LENGTH:
        return _invalid()
    try:
        _, category = verify(unsubscribe_secret(settings_of()), token)
    except InvalidTokenError:
        return _invalid()
    return _page(
        HTTPStatus.OK,
        'Отписаться от рассылки?',
        'Вы больше не будете получать: {0}.'.format(CATEGORY_LABELS.get(category, category)),
        confirm=True,
    )


@unsubscribe_blueprint.post('/unsubscribe/<token>')
def one_click_unsubscribe(token: str) -> Response:
    """Unsubscribe at once (RFC 8058); repeating it changes nothing."""
    if len(token) > MAX_TOKEN_LENGTH:
        return _invalid()
    try:
        subject, category = verify(unsubscribe_secret(settings_of()), token)
    except InvalidTokenError:
        return _invalid()
    unsubscribe(db.session(), subject, category)
    return _page(
        HTTPStatus.OK,
        'Вы отписались',
        'Больше не пришлём: {0}. Изменить выбор можно в настройках профиля.'.format(
            CATEGORY_LABELS.get(category, category),
        ),
    )
