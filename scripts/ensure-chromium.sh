#!/usr/bin/env bash
# The admin panel's browser test drives Debian's Chromium. Install it when it is missing and we
# may (root with apt); otherwise say so: the test then skips with the same reason.
set -uo pipefail
if [ -x /usr/bin/chromium ] && [ -x /usr/bin/chromedriver ]; then
  exit 0
fi
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  echo "installing chromium and chromium-driver for the admin panel's browser test"
  if ! apt-get install -y -qq chromium chromium-driver >/dev/null 2>&1; then
    apt-get update -qq >/dev/null 2>&1 && apt-get install -y -qq chromium chromium-driver >/dev/null 2>&1 \
      || echo "could not install chromium: the browser test will be skipped"
  fi
  exit 0
fi
echo "chromium is not installed (apt-get install -y chromium chromium-driver): the browser test will be skipped"
