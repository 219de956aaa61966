#!/usr/bin/env bash
# The admin panel's browser test drives Debian's Chromium, or the browser and driver named by
# NOTIFIER_TEST_CHROMIUM and NOTIFIER_TEST_CHROMEDRIVER (CI installs its own). Install Debian's when
# neither is there and we may (root with apt); otherwise say so: the test then skips with the same
# reason, or fails under CI=true.
set -uo pipefail
if [ -n "${NOTIFIER_TEST_CHROMIUM:-}" ] && [ -n "${NOTIFIER_TEST_CHROMEDRIVER:-}" ]; then
  exit 0
fi
if [ -x /usr/bin/chromium ] && [ -x /usr/bin/chromedriver ]; then
  exit 0
fi
if [ "${CI:-}" = true ]; then
  missing="the browser test will fail (CI=true)"
else
  missing="the browser test will be skipped"
fi
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  echo "installing chromium and chromium-driver for the admin panel's browser test"
  if ! apt-get install -y -qq chromium chromium-driver >/dev/null 2>&1; then
    apt-get update -qq >/dev/null 2>&1 && apt-get install -y -qq chromium chromium-driver >/dev/null 2>&1 \
      || echo "could not install chromium: $missing"
  fi
  exit 0
fi
echo "chromium is not installed (apt-get install -y chromium chromium-driver): $missing"
