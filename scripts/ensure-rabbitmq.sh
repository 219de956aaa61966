#!/usr/bin/env bash
# Start the local RabbitMQ if it is installed but stopped; otherwise say how to get one.
set -uo pipefail
url="${NOTIFIER_BROKER_URL:-amqp://guest:guest@127.0.0.1:5672/%2F}"
case "$url" in
  *@127.0.0.1:*|*@localhost:*|*@127.0.0.1/*|*@localhost/*) ;;
  *) exit 0 ;;  # a remote broker is the operator's to run
esac
if (exec 3<>/dev/tcp/127.0.0.1/5672) 2>/dev/null; then
  exit 0
fi
if command -v rabbitmq-server >/dev/null; then
  echo "RabbitMQ is stopped: starting it (rabbitmq-server -detached)"
  rabbitmq-server -detached
  for _ in $(seq 1 60); do
    (exec 3<>/dev/tcp/127.0.0.1/5672) 2>/dev/null && { echo "RabbitMQ is up"; exit 0; }
    sleep 1
  done
  echo "RabbitMQ did not come up within 60 s; see /var/log/rabbitmq/" >&2
  exit 1
fi
echo "RabbitMQ is not installed: apt install rabbitmq-server, or docker compose up -d rabbitmq" >&2
exit 1
