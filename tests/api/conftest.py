"""Fixtures of the API tests: the served OpenAPI document as a schemathesis schema, and a case count."""

from collections import Counter, defaultdict

import pytest
import schemathesis
from flask import Flask
from schemathesis.specs.openapi.schemas import OpenApiSchema

#: Status codes of the cases schemathesis ran, by operation and mode, over the whole session.
CASES_RUN: defaultdict[str, Counter[int]] = defaultdict(Counter)


@pytest.fixture
def api_schema(app: Flask) -> OpenApiSchema:
    """The document the app serves, loaded by schemathesis to call the app through WSGI."""
    return schemathesis.openapi.from_wsgi('/api/v1/openapi.json', app)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Report how many cases schemathesis ran (the issue asks for the number)."""
    if not CASES_RUN:
        return
    terminalreporter.section('schemathesis')
    for operation, statuses in sorted(CASES_RUN.items()):
        answers = ' '.join('{0}x{1}'.format(status, count) for status, count in sorted(statuses.items()))
        terminalreporter.write_line('{0:>6}  {1}: {2}'.format(statuses.total(), operation, answers))
    total = sum(statuses.total() for statuses in CASES_RUN.values())
    terminalreporter.write_line('{0:>6}  cases in total'.format(total))
