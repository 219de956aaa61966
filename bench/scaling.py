"""``make bench-scaling``: how a mailing's rate grows with sender processes on this machine.

One process prepares (``--only router,generator,worker``) and 1, 2, then 4
processes send (``--only sender``); each configuration mails BENCH_SCALING
(default 20000) users of the local directory on PostgreSQL. Printed: mails/s
at the SMTP sink, the ratio to the raw ceiling of the same run, and CPU per
mail by component. The figures feed ``docs/capacity.md``.
"""

import os
import socket
import subprocess
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path

from bench.run import (
    PYTHON, CpuMeter, Rows, Service, bulk, free_port, raw_ceiling, say, service_environment, step, wait_until,
    _healthy,
)
from bench.sink import start_sink
from tests.plugins.services import own_database, own_vhost

SCALING = int(os.environ.get('BENCH_SCALING', '20000'))
SENDER_COUNTS = tuple(int(count) for count in os.environ.get('BENCH_SENDERS', '1,2,4').split(','))


def main() -> None:
    smtp_port = free_port()
    rows = Rows()
    with ExitStack() as stack:
        tmp = Path(stack.enter_context(tempfile.TemporaryDirectory()))
        sink, sink_process = start_sink(smtp_port, tmp / 'sink.tsv')
        stack.callback(sink_process.kill)
        database_url = stack.enter_context(own_database())
        broker_url = stack.enter_context(own_vhost())
        step('raw SMTP ceiling')
        ceiling = raw_ceiling(smtp_port, sink)
        rows.append(('raw ceiling (one SMTP connection)', '{0:.0f} mails/s'.format(ceiling)))
        env = service_environment(database_url, broker_url, smtp_port, tmp)
        subprocess.run([PYTHON, '-m', 'notifier', 'db', 'upgrade', 'heads'], env=env, check=True, capture_output=True)
        for senders in SENDER_COUNTS:
            service = Service(env, free_port())
            service.start('api', 'run', 'api', '--workers', '1', '--port', str(service.api_port))
            service.start('consume-prepare', 'run', 'consume', '--only', 'router,generator,worker')
            for number in range(1, senders + 1):
                service.start('consume-sender-{0}'.format(number), 'run', 'consume', '--only', 'sender')
            try:
                wait_until(lambda: _healthy(service), 60, 'the API')
                time.sleep(3)  # every consumer subscribed
                step('bulk mailing to {0} users, {1} sender process(es)'.format(SCALING, senders))
                meter = CpuMeter(service, sink_process.pid)
                rate, _, elapsed = bulk(service, sink, database_url, SCALING, 'scale{0}x'.format(senders))
                rows.append((
                    '{0} sender process(es), 1 preparing'.format(senders),
                    '{0:.0f} mails/s ({1:.2f} × ceiling) in {2:.0f}s'.format(rate, rate / ceiling, elapsed),
                ))
                rows.append(('  CPU per mail', meter.per_mail_ms(SCALING)))
            finally:
                service.stop()
    width = max(len(label) for label, _ in rows)
    sys.stdout.write('\nnotifier sender scaling on {0} ({1} cores)\n'.format(socket.gethostname(), os.cpu_count()))
    for label, figure in rows:
        sys.stdout.write('  {0:<{1}}  {2}\n'.format(label, width, figure))
    say('done')


if __name__ == '__main__':
    main()
