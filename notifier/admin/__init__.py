"""The managers' admin panel under ``/admin`` (Flask-Admin): templates, history, operations, accounts."""

from notifier.admin.panel import init_admin

__all__ = ['init_admin']
