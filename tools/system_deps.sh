#!/usr/bin/env bash
# System packages the project needs beyond Python wheels, installed when missing (Debian, as root).
# bubblewrap: the sandbox-executor's OS sandbox. Without it the sandbox refuses to execute code.
# chromium: the dashboard's browser test (tests/e2e/test_dashboard_browser.py) and bench_dashboard
# drive Debian's Chromium headless through Playwright; without it they are skipped (never downloaded).
# --bench also wants wrk: the HTTP load generator of bench_gateway (which falls back to aiohttp).
set -euo pipefail
need=()
command -v bwrap >/dev/null 2>&1 || need+=(bubblewrap)
[ -x /usr/bin/chromium ] || need+=(chromium)
if [ "${1:-}" = "--bench" ]; then
  command -v wrk >/dev/null 2>&1 || need+=(wrk)
fi
if ((${#need[@]} == 0)); then
  exit 0
fi
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "system_deps: installing ${need[*]}"
  apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
else
  echo "system_deps: please install ${need[*]} (the sandbox fails closed without bubblewrap;" \
    "the dashboard's browser test and bench are skipped without chromium;" \
    "bench_gateway falls back to a slower Python load generator without wrk)" >&2
fi
