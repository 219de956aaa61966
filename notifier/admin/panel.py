"""Mounting the admin panel on an app: sessions, login, CSRF, and every page under ``/admin``."""

import json
from typing import Any, Final

from flask import Blueprint, Flask
from flask_admin import Admin
from flask_admin.theme import Bootstrap4Theme
from flask_login import LoginManager
from flask_wtf.csrf import generate_csrf

from notifier.admin.home_views import HomeView
from notifier.admin.security import load_admin_user
from notifier.admin.views import panel_views
from notifier.pipeline.users_setup import unsubscribe_secret
from notifier.plugins import default_registry
from notifier.settings import settings_of

ADMIN_URL: Final = '/admin'
ADMIN_NAME: Final = 'Notifier'

#: Carries the panel's page templates (``notifier_admin/*.html``); it has no routes.
pages_blueprint = Blueprint('notifier_admin', __name__, template_folder='templates')


@pages_blueprint.app_template_filter('pretty_json')
def pretty_json(document: Any) -> str:
    """JSON for people: indented, letters as they are (Jinja's ``tojson`` escapes every non-ASCII one)."""
    return json.dumps(document, ensure_ascii=False, indent=2, sort_keys=True, default=str)


def _configure_sessions(app: Flask) -> None:
    settings = settings_of(app)
    if not app.secret_key:
        # NOTIFIER_SECRET_KEY in production (required there); a development instance's own key otherwise.
        app.secret_key = unsubscribe_secret(settings).decode()
    app.config['SESSION_COOKIE_SAMESITE'] = 'Lax'
    app.config['SESSION_COOKIE_SECURE'] = settings.public_url.startswith('https://')
    app.config.setdefault('WTF_CSRF_TIME_LIMIT', None)  # valid as long as the session: editors stay open for hours


def _configure_login(app: Flask) -> None:
    login_manager = LoginManager()
    login_manager.user_loader(load_admin_user)
    login_manager.init_app(app)
    app.jinja_env.globals.setdefault('csrf_token', generate_csrf)


def init_admin(app: Flask) -> Admin:
    """Mount ``/admin`` on ``app``; nothing under it answers without a login."""
    _configure_sessions(app)
    _configure_login(app)
    app.register_blueprint(pages_blueprint)
    channels = tuple(sorted(default_registry().channels()))
    admin = Admin(
        app,
        name=ADMIN_NAME,
        url=ADMIN_URL,
        index_view=HomeView(name='Home', endpoint='admin', url=ADMIN_URL),
        theme=Bootstrap4Theme(),
    )
    for view in panel_views(channels):
        admin.add_view(view)
    return admin
