#!/usr/bin/env bash
# Security fixes that are shown by measurement (issue 15), release build,
# SQLite:
#   #8  the events CSV export streams: the server's peak RSS while it sends
#       the log of a group with 10,000 and with 1,000,000 events (must not
#       grow with the log);
#   #9  password hashing runs on a bounded blocking pool: /healthz latency
#       (wrk, one connection) while 32 connections sign in with the right
#       password, as a ratio to /healthz on the idle server.
# Needs: bash .ci/build-release.sh; wrk (apt-get install wrk).
# BINARY and SEED pick other builds (to measure an older commit).
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"
command -v wrk >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk; }
target_dir=$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')
if [ -z "${SEED:-}" ]; then
  cargo build --release --features ssr --example bench-seed -q
fi
binary=${BINARY:-$target_dir/release/billing-console}
seed=${SEED:-$target_dir/release/examples/bench-seed}
duration=${DURATION:-10s}
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$work"' EXIT

server_pid=
run_server() { # db port → starts the server in the background
  LEPTOS_SITE_ADDR="127.0.0.1:$2" DATABASE_URL="sqlite://$1" RUST_LOG=error \
    "$binary" >"$work/server-$2.log" 2>&1 &
  server_pid=$!
  for _ in $(seq 1 100); do curl -fsS "http://127.0.0.1:$2/healthz" >/dev/null 2>&1 && return; sleep 0.1; done
  echo "server did not start"; cat "$work/server-$2.log"; exit 1
}
stop_server() { kill "$server_pid"; wait "$server_pid" 2>/dev/null || true; }
sign_in() { # port → cookie header
  curl -s -o /dev/null -c "$work/jar-$1" -H 'Accept: text/html' \
    --data 'email=bench%40example.com&password=bench-password&next=%2F' "http://127.0.0.1:$1/api/sign_in"
  echo "bc_session=$(awk '/bc_session/ {print $7}' "$work/jar-$1")"
}
kib() { awk -v k="$1" '$1 == k":" {print $2}' "/proc/$server_pid/status"; }
# wrk prints latencies as 812.00us, 1.20ms or 1.02s; this gives milliseconds.
wrk_ms() { # file percentile
  awk -v p="$2" '$1 == p {print $2}' "$1" | python3 -c '
import sys
v = sys.stdin.read().strip()
for unit, scale in (("us", 0.001), ("ms", 1.0), ("s", 1000.0)):
    if v.endswith(unit):
        print(round(float(v[: -len(unit)]) * scale, 3)); break'
}

echo "== #8 events CSV: peak server memory while streaming the log"
for events in 10000 1000000; do
  db="$work/events-$events.db"
  group=$("$seed" "sqlite://$db" 4 2)
  # Copies of the group's first event, written by SQLite itself (a million
  # rule calls would measure the seeding, not the export).
  python3 - "$db" "$group" "$events" <<'EOF'
import sqlite3, sys
db, group, events = sys.argv[1], sys.argv[2], int(sys.argv[3])
con = sqlite3.connect(db)
have = con.execute("SELECT count(*) FROM events WHERE billing_group_id = ?", (group,)).fetchone()[0]
con.execute("""
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?)
INSERT INTO events (billing_group_id, account_id, actor, event_type, event_desc, project_name, details, create_time)
SELECT e.billing_group_id, e.account_id, e.actor, e.event_type, e.event_desc || ' (copy ' || n.i || ')',
       e.project_name, e.details, e.create_time
FROM n, (SELECT * FROM events WHERE billing_group_id = ? ORDER BY log_entry_id LIMIT 1) e
""", (events - have, group))
con.commit()
EOF
  run_server "$db" 3500
  cookie=$(sign_in 3500)
  curl -s -o /dev/null -H "Cookie: $cookie" "http://127.0.0.1:3500/billing-group/$group/events"
  idle=$(kib VmRSS)
  start=$(date +%s.%N)
  curl -s -o "$work/events.csv" -H "Cookie: $cookie" "http://127.0.0.1:3500/billing-group/$group/events.csv"
  end=$(date +%s.%N)
  peak=$(kib VmHWM)
  bytes=$(stat -c %s "$work/events.csv")
  rows=$(( $(wc -l <"$work/events.csv") - 1 ))
  rm -f "$work/events.csv"
  echo "$events events: $rows rows, $bytes bytes in $(python3 -c "print(round($end - $start, 2))") s;" \
    "RSS before $idle KiB, peak $peak KiB (+$((peak - idle)) KiB)"
  stop_server
done

echo "== #9 /healthz latency during a sign-in burst (32 connections, $duration)"
db="$work/sign-in.db"
"$seed" "sqlite://$db" 4 2 >/dev/null
run_server "$db" 3600
cat >"$work/sign-in.lua" <<'EOF'
wrk.method = "POST"
wrk.body = "email=bench%40example.com&password=bench-password&next=%2F"
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
wrk.headers["Accept"] = "text/html"
EOF
wrk -t1 -c1 -d"$duration" --latency "http://127.0.0.1:3600/healthz" >"$work/idle.txt"
wrk -t1 -c32 -d"$duration" --latency -s "$work/sign-in.lua" "http://127.0.0.1:3600/api/sign_in" >"$work/burst.txt" &
burst=$!
sleep 1
wrk -t1 -c1 -d"$(( ${duration%s} - 2 ))s" --latency "http://127.0.0.1:3600/healthz" >"$work/busy.txt"
wait "$burst"
idle50=$(wrk_ms "$work/idle.txt" 50%); idle99=$(wrk_ms "$work/idle.txt" 99%)
busy50=$(wrk_ms "$work/busy.txt" 50%); busy99=$(wrk_ms "$work/busy.txt" 99%)
echo "sign-ins: $(awk '/Requests\/sec/ {print $2}' "$work/burst.txt") req/s, p99 $(wrk_ms "$work/burst.txt" 99%) ms"
echo "healthz idle: p50 $idle50 ms, p99 $idle99 ms"
echo "healthz during the burst: p50 $busy50 ms, p99 $busy99 ms"
echo "ratio during/idle: p50 $(python3 -c "print(round($busy50/$idle50, 1))"), p99 $(python3 -c "print(round($busy99/$idle99, 1))")"
echo "server peak RSS after the burst: $(kib VmHWM) KiB"
stop_server
