#!/usr/bin/env bash
# The README's test command: installs what is missing, then runs every test.
#   - unit and integration tests (the store conformance suite and the rules
#     on SQLite; on PostgreSQL too when TEST_DATABASE_URL is set),
#   - the end-to-end suite in Chromium against a freshly built server with
#     its own SQLite database and demo data.
# Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"

bash .ci/install-tools.sh

echo "== cargo test (SQLite${TEST_DATABASE_URL:+ and PostgreSQL})"
# This also builds the server binary the end-to-end suite runs, so the
# server and its dependencies are compiled once, not again by cargo-leptos.
cargo test --features ssr

# The browser bundle goes to a site folder of its own: the run command's
# release bundle in target/site (perhaps being served) stays as it is. It
# is the release bundle, built as the run command builds it (the two share
# the compiled WASM), so the suite tests what people get and the
# first-visit check measures the real bytes.
export LEPTOS_SITE_ROOT=target/site-test
echo "== release WASM bundle and styles into $LEPTOS_SITE_ROOT (.ci/build-release.sh --frontend-only)"
bash .ci/build-release.sh --frontend-only

target_dir=$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')
binary="$target_dir/debug/billing-console"

echo "== end-to-end (Playwright, Chromium)"
work=$(mktemp -d)
# A free port, so a server left running elsewhere cannot get in the way.
port=${E2E_PORT:-$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')}
server_log="$work/server.log"
LEPTOS_SITE_ADDR="127.0.0.1:$port" \
DATABASE_URL="sqlite://$work/e2e.db" \
BILLING_DEMO=true \
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
# on the server's database.
(cd end2end && BASE_URL="http://127.0.0.1:$port" BILLING_BIN="$binary" \
  DATABASE_URL="sqlite://$work/e2e.db" PEOPLE_PG_URL="$people_pg_url" npx playwright test) || status=$?
if [ "$status" -ne 0 ]; then
  echo "---- server log ----"; tail -n 80 "$server_log"
  # A visual check that failed leaves expected, actual and diff images.
  find end2end/test-results -name '*-diff.png' -printf 'visual difference: %p\n' 2>/dev/null || true
fi
exit "$status"
