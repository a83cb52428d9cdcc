#!/usr/bin/env bash
# The end-to-end suite (Playwright, Chromium) against the debug server that
# `cargo test --features ssr` built, with the release bundle that
# .ci/build-release.sh --frontend-only put in target/site-test.
#
# The server, the operator commands the specs run and the specs themselves
# all read one instant from a clock file (TEST_CLOCK_FILE): E2E_CLOCK, by
# default mid-November 2026. The demo data is seeded from that instant, so
# every figure and date the suite sees is the same on every day the suite
# runs. .ci/calendar-test.sh runs the date-sensitive specs again at the
# month's and the year's edges.
#   E2E_CLOCK=2027-02-28T12:00:00Z bash .ci/e2e.sh tests/invoices.spec.ts
# Extra arguments go to `playwright test` (files, --grep …).
set -euo pipefail
cd "$(dirname "$0")/.."
export LEPTOS_SITE_ROOT=${LEPTOS_SITE_ROOT:-target/site-test}
E2E_CLOCK=${E2E_CLOCK:-2026-11-16T10:00:00Z}

target_dir=$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')
binary="$target_dir/debug/billing-console"

work=$(mktemp -d)
clock_file="$work/clock"
printf '%s\n' "$E2E_CLOCK" >"$clock_file"
export TEST_CLOCK_FILE="$clock_file"
# A free port, so a server left running elsewhere cannot get in the way.
port=${E2E_PORT:-$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')}
server_log="$work/server.log"
LEPTOS_SITE_ADDR="127.0.0.1:$port" \
DATABASE_URL="sqlite://$work/e2e.db" \
BILLING_DEMO=true WEBHOOK_ALLOW_PRIVATE_TARGETS=true \
MONTH_CLOSE_SCHEDULED=false \
  "$binary" >"$server_log" 2>&1 &
server_pid=$!
# The first-run spec starts servers of its own on empty databases: a
# SQLite file, and a fresh PostgreSQL database when one is available.
people_pg_url=""
if [ -n "${TEST_DATABASE_URL:-}" ]; then
  people_database="bc_e2e_people_$$"
  psql "$TEST_DATABASE_URL" -qc "CREATE DATABASE $people_database" >/dev/null
  people_pg_url="${TEST_DATABASE_URL%/*}/$people_database"
fi
cleanup() {
  kill "$server_pid" 2>/dev/null || true
  wait "$server_pid" 2>/dev/null || true
  if [ -n "$people_pg_url" ]; then
    psql "$TEST_DATABASE_URL" -qc "DROP DATABASE IF EXISTS $people_database WITH (FORCE)" >/dev/null 2>&1 || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT

for _ in $(seq 1 100); do
  if curl -fsS "http://127.0.0.1:$port/healthz" >/dev/null 2>&1; then break; fi
  if ! kill -0 "$server_pid" 2>/dev/null; then cat "$server_log"; echo "server exited early"; exit 1; fi
  sleep 0.2
done
curl -fsS "http://127.0.0.1:$port/healthz" >/dev/null || { cat "$server_log"; echo "server did not become healthy"; exit 1; }

status=0
# The credits spec runs the operator commands (credits issue, close-month)
# on the server's database, on the same clock.
(cd end2end && BASE_URL="http://127.0.0.1:$port" BILLING_BIN="$binary" BILLING_DEMO=true \
  DATABASE_URL="sqlite://$work/e2e.db" PEOPLE_PG_URL="$people_pg_url" npx playwright test "$@") || status=$?
# A panic is a failure even when every page a spec looked at rendered.
if grep -q "panicked" "$server_log"; then
  echo "the server panicked during the suite:"; grep -n -A3 "panicked" "$server_log" | head -40
  status=1
fi
if [ "$status" -ne 0 ]; then
  echo "---- server errors ----"; grep -E "ERROR|panicked" "$server_log" | head -n 40 || true
  echo "---- server log ----"; tail -n 80 "$server_log"
  # A visual check that failed leaves expected, actual and diff images.
  find end2end/test-results -name '*-diff.png' -printf 'visual difference: %p\n' 2>/dev/null || true
fi
exit "$status"
