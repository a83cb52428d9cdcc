#!/usr/bin/env bash
# The date-sensitive end-to-end specs (titles tagged @calendar) again at
# the instants where calendars break: the 1st just after midnight, the 7th,
# 28 February, a 31st, and across a year end (seeded on 31 December at
# 23:30, then the clock moves to 1 January 00:30 and December is closed).
# Needs what .ci/test.sh builds (the debug server and target/site-test).
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"

# Every instant runs; the script fails at the end if any did.
failed=""
run_at() {
  local instant=$1
  shift
  echo "== end-to-end @calendar specs at $instant${E2E_CLOCK_NEXT:+ → $E2E_CLOCK_NEXT}"
  E2E_CLOCK="$instant" bash .ci/e2e.sh --grep @calendar "$@" || failed="$failed $instant"
}

run_at 2026-12-01T00:30:00Z
run_at 2026-12-07T12:00:00Z
run_at 2027-02-28T12:00:00Z
run_at 2027-01-31T12:00:00Z
# The year end on its own server: the spec moves the clock and closes
# December, which the other specs would otherwise close themselves.
E2E_CLOCK_NEXT=2027-01-01T00:30:00Z run_at 2026-12-31T23:30:00Z tests/calendar.spec.ts
if [ -n "$failed" ]; then
  echo "the @calendar specs failed at:$failed"
  exit 1
fi
echo "the @calendar specs passed at every instant"
