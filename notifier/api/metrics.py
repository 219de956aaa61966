"""``/metrics`` (Prometheus text format) and the timing of every HTTP request.

``/metrics`` needs no token, like ``/healthz``: expose it only on the
network Prometheus scrapes from (it shows counts, never data of a
notification).
"""

import time

from flask import Blueprint, Flask, Response, request

from notifier.extensions import db
from notifier.observability import metrics
from notifier.observability.exposition import render_metrics
from notifier.observability.queue_gauges import QueueSource
from notifier.plugins import default_registry
from notifier.settings import settings_of

metrics_blueprint = Blueprint('metrics', __name__)
#: The endpoint label of a request that matched no route (404s of any path share it).
UNMATCHED = '<unmatched>'
_STARTED = 'notifier.request_started'


@metrics_blueprint.get('/metrics')
def scrape() -> Response:
    """The metrics of the API processes, and the service's state (database, queues)."""
    settings = settings_of()
    queues = QueueSource(
        broker_url=settings.broker_url,
        channels=sorted(default_registry().channels()),
        delivery_limit=settings.delivery_limit,
        retry_delays=settings.retry_delay_seconds,
    )
    exposition, content_type = render_metrics(db.session(), queues)
    return Response(exposition, content_type=content_type)


def _start_timer() -> None:
    request.environ[_STARTED] = time.perf_counter()


def _observe(response: Response) -> Response:
    started = request.environ.get(_STARTED)
    if started is not None:
        rule = request.url_rule
        endpoint = rule.rule if rule is not None else UNMATCHED
        metrics.api_request_seconds.labels(endpoint=endpoint, status=str(response.status_code)).observe(
            time.perf_counter() - started,
        )
    return response


def instrument(app: Flask) -> None:
    """Time every request of the app by route template (bounded label values) and status."""
    app.before_request(_start_timer)
    app.after_request(_observe)
