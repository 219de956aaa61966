"""``notifier run api`` with the inbox routes: the API process the websocket tests start twice.

Run as ``python -m tests.inbox.api_process --port N``; it does what
``notifier run api`` does (preflight, then Werkzeug's threaded server).
Once ``notifier/api/registry.py`` registers the inbox and websocket
blueprints, the tests can start ``notifier run api --port N`` instead.
"""

import argparse

from werkzeug.serving import run_simple

from notifier.app import create_app
from notifier.cli.preflight import preflight
from tests.inbox.routes import register_inbox_routes


def main() -> None:
    """Serve until killed."""
    parser = argparse.ArgumentParser()
    parser.add_argument('--port', type=int, required=True)
    port = parser.parse_args().port
    app = create_app()
    register_inbox_routes(app)
    preflight(app)
    run_simple('127.0.0.1', port, app, threaded=True, use_reloader=False)


if __name__ == '__main__':
    main()
