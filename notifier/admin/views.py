"""Every page of the panel, in the order of its menu."""

from flask_admin import BaseView

from notifier.admin.account_views import AccountsView
from notifier.admin.history_views import HistoryView
from notifier.admin.limits_views import LimitsView
from notifier.admin.mailing_views import MailingsView
from notifier.admin.operations_views import OperationsView
from notifier.admin.schedule_views import SchedulesView
from notifier.admin.template_views import TemplatesView


def panel_views(channels: tuple[str, ...]) -> list[BaseView]:
    """The views to mount; ``channels`` are the installed channel plugins."""
    return [
        TemplatesView(channels),
        MailingsView(channels),
        HistoryView(),
        OperationsView(channels),
        LimitsView(channels),
        SchedulesView(),
        AccountsView(),
    ]
