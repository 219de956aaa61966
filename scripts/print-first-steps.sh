#!/usr/bin/env bash
# Tell a newcomer how to send a first event to the service make run is starting.
set -euo pipefail
token=$(grep '^NOTIFIER_API_TOKENS=' .env | head -n 1 | cut -d= -f2 | cut -d, -f1)
port="${NOTIFIER_API_PORT:-8000}"
cat <<MSG

notifier is starting: API on http://127.0.0.1:${port}, consumers and scheduler beside it.
Development bearer token: ${token}

Send a first welcome mail:

  curl -X POST http://127.0.0.1:${port}/api/v1/events \\
    -H "Authorization: Bearer ${token}" -H "Idempotency-Key: reg-42" \\
    -H "Content-Type: application/json" \\
    -d '{"meta": {"urgency": "immidiate", "scale": "individual", "email": "vasya@example.com", "periodic": false},
         "type": "welcome", "fields": {"name": "Вася"}}'

The mail lands in instance/outbox/ as an .eml file. Ctrl-C stops everything.

MSG
