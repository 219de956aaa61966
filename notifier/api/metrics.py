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

metrics_blueprint = Blueprint('metrics', __name__)
#: The endpoint label of a request that matched no route (404s of any path share it).
UNMATCHED = '<unmatched>'
_STARTED = 'notifier.request_started'


@metrics_blueprint.get('/metrics')
def scrape() -> Response:
    """The metrics of the API processes and the delivery counts."""
    exposition, content_type = render_metrics(db.session())
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
