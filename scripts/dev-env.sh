#!/usr/bin/env bash
# Write .env with a random development bearer token, once; never overwrite an existing token.
set -euo pipefail
if [ -f .env ] && grep -q '^NOTIFIER_API_TOKENS=' .env; then
  exit 0
fi
token="dev-$(python3 -c 'import secrets; print(secrets.token_urlsafe(18))')"
echo "NOTIFIER_API_TOKENS=${token}" >> .env
echo "wrote a development token to .env"
