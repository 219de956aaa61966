"""The send rate per recipient email domain: honoured, set with the CLI, changed at run time through the API."""

from click.testing import CliRunner
from flask import Flask
from flask.cli import ScriptInfo

from notifier.cli.main import cli
from notifier.ratelimit import REFRESH_SECONDS, Limiter
from tests.integration import queries
from tests.plugins.app import AUTH, running_consumers, wait_for
from tests.resilience.conftest import FlakySmtp

SLOW_DOMAIN = 'slow.example'
SLOW_LIMIT = 'channel.email.domain.slow.example.send'
RATE = 2  # mails a second to the slow domain
BATCH = 10
NEW_RATE = 1000.0


def _limits(app: Flask, *arguments: str) -> str:
    invoked = CliRunner().invoke(cli, ['limits', *arguments], obj=ScriptInfo(create_app=lambda: app))
    assert invoked.exit_code == 0, invoked.output
    return invoked.output


def _rate_in_force(app: Flask, limiter: Limiter, name: str) -> float | None:
    """What the limiter allows now (it reads the rates from the database when they are due)."""
    with app.app_context():
        return limiter.rate_of(name)


def _send_batch(app: Flask, flaky_smtp: FlakySmtp, domain: str, batch: str) -> float:
    """Post BATCH welcomes to ``domain``; the seconds from their first mail's arrival to the last one's."""
    before = len(flaky_smtp.arrived(domain))
    client = app.test_client()
    for number in range(BATCH):
        queries.post_event(client, queries.welcome_to('{0}{1}@{2}'.format(batch, number, domain)))
    wait_for(lambda: len(flaky_smtp.arrived(domain)) == before + BATCH, timeout=60, what='the {0} mails'.format(domain))
    arrivals = flaky_smtp.arrived(domain)[before:]
    return arrivals[-1] - arrivals[0]


def test_a_domain_s_rate_is_honoured_only_for_that_domain_and_changed_at_run_time(
    failover_app: Flask, flaky_smtp: FlakySmtp,
) -> None:
    assert _limits(failover_app, 'set', SLOW_LIMIT, '{0}/s'.format(RATE)) == '{0} = {1}/s\n'.format(SLOW_LIMIT, RATE)
    with running_consumers(failover_app) as process:
        fast_span = _send_batch(failover_app, flaky_smtp, 'fast.example', 'first')
        slow_span = _send_batch(failover_app, flaky_smtp, SLOW_DOMAIN, 'first')

        changed = failover_app.test_client().put(
            '/api/v1/limits/{0}'.format(SLOW_LIMIT), json={'rate': '{0:g}/s'.format(NEW_RATE)}, headers=AUTH,
        )
        assert changed.status_code == 200, changed.json
        with failover_app.app_context():
            limiter = process.make_context(1, False).limiter
        assert limiter is not None
        # The contract: every process reads the rates again within REFRESH_SECONDS (asking reads them when due).
        wait_for(
            lambda: _rate_in_force(failover_app, limiter, SLOW_LIMIT) == NEW_RATE,
            timeout=REFRESH_SECONDS * 5,
            what="the consumer's limiter reading the new rate",
        )
        faster_span = _send_batch(failover_app, flaky_smtp, SLOW_DOMAIN, 'second')

    # With no token saved up, each mail after the first waits 1/RATE: the limiter cannot be faster than that.
    assert slow_span >= (BATCH - 1) / RATE * 0.9
    assert fast_span < slow_span
    assert faster_span < slow_span
    listed = failover_app.test_client().get('/api/v1/limits', headers=AUTH).json['items']
    assert listed == [{'name': SLOW_LIMIT, 'per_second': NEW_RATE}]
    assert SLOW_LIMIT in _limits(failover_app, 'list')


def test_limit_names_are_checked_and_stored_in_lower_case(failover_app: Flask) -> None:
    refused = CliRunner().invoke(
        cli, ['limits', 'set', 'channel.email send!', '5/s'], obj=ScriptInfo(create_app=lambda: failover_app),
    )

    assert refused.exit_code == 2
    assert 'a name like generator.publish' in refused.output
    assert 'Traceback' not in refused.output
    assert _limits(failover_app, 'set', 'Channel.Email.Domain.Example.COM.send', '5/s') == (
        'channel.email.domain.example.com.send = 5/s\n'
    )
