#!/usr/bin/env bash
# Group page under load (issue 3): an account with 2,000 projects in 20
# groups on SQLite, release build. Measures
#   - p99 latency of the billing group page at 64 connections (wrk),
#   - its throughput as a ratio of the same server sending the same bytes
#     as a static file, in the same run,
#   - the number of SQL statements one group page runs, with 200 and with
#     2,000 projects (must not grow with projects).
# On PostgreSQL with BENCH_PG_URL=postgres://user:pass@host/postgres (a role
# that may CREATE DATABASE); SQLite otherwise.
# PROFILE=1 adds a 10 s `perf record` of the server under load and its top
# symbols.
# Needs: bash .ci/build-release.sh; wrk (apt-get install wrk).
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"
command -v wrk >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk; }
target_dir=$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')
cargo build --release --features ssr --example bench-seed -q
binary=${BINARY:-$target_dir/release/billing-console}
seed="$target_dir/release/examples/bench-seed"
duration=${DURATION:-15s}
backend=$([ -n "${BENCH_PG_URL:-}" ] && echo PostgreSQL || echo SQLite)
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$work"' EXIT

new_database() { # name → a database URL, empty
  if [ -n "${BENCH_PG_URL:-}" ]; then
    PGOPTIONS=--client-min-messages=warning psql "$BENCH_PG_URL" -qc "DROP DATABASE IF EXISTS bc_bench_$1 WITH (FORCE)" -c "CREATE DATABASE bc_bench_$1" >/dev/null
    echo "${BENCH_PG_URL%/*}/bc_bench_$1"
  else
    echo "sqlite://$work/$1.db"
  fi
}
run_server() { # database-url port → starts the server in the background
  LEPTOS_SITE_ADDR="127.0.0.1:$2" DATABASE_URL="$1" RUST_LOG="${3:-warn}" \
    "$binary" >"$work/server-$2.log" 2>&1 &
  for _ in $(seq 1 100); do curl -fsS "http://127.0.0.1:$2/healthz" >/dev/null 2>&1 && return; sleep 0.1; done
  echo "server did not start"; cat "$work/server-$2.log"; exit 1
}
sign_in() { # port → cookie header
  curl -s -o /dev/null -c "$work/jar-$1" -H 'Accept: text/html' -H "Referer: http://127.0.0.1:$1/signin" \
    --data 'email=bench%40example.com&password=bench-password&next=%2F' "http://127.0.0.1:$1/api/sign_in"
  echo "bc_session=$(awk '/bc_session/ {print $7}' "$work/jar-$1")"
}

echo "== statements per group page (sqlx statement log)"
for n in 200 2000; do
  db_url=$(new_database "count_$n")
  "$seed" "$db_url" "$n" 20 >"$work/group-$n"
  echo "$db_url" >"$work/url-$n"
  port=$((3300 + n / 100))
  run_server "$db_url" "$port" "warn,sqlx::query=debug"
  cookie=$(sign_in "$port")
  # Counted as the log's growth (truncating a file the server appends to
  # leaves holes); a new pool connection's PRAGMAs are not the page's.
  statements() { grep -a 'sqlx::query' "$work/server-$port.log" | grep -vc 'PRAGMA' || true; }
  sleep 0.5
  before=$(statements)
  curl -s -o /dev/null -H "Cookie: $cookie" "http://127.0.0.1:$port/billing-group/$(cat "$work/group-$n")/projects"
  sleep 0.5
  echo "$n projects: $(( $(statements) - before )) statements"
done

echo "== load: 2000 projects, 20 groups, 64 connections, $duration, $backend"
group=$(cat "$work/group-2000")
run_server "$(cat "$work/url-2000")" 3400
cookie=$(sign_in 3400)
url="http://127.0.0.1:3400/billing-group/$group"
site_root=target/site
curl -s -H "Cookie: $cookie" "$url" >"$site_root/bench-group-page.html"
bytes=$(stat -c %s "$site_root/bench-group-page.html")
echo "page size: $bytes bytes"
if [ -n "${PROFILE:-}" ]; then # where the server's time goes under this load
  perf record -F 499 -g -p "$(pgrep -n -f "$binary")" -o "$work/perf.data" -- sleep 10 >/dev/null 2>&1 &
fi
# CPU seconds each side spent during the page run (the server, and on
# PostgreSQL the database's processes): where a request's cost goes.
cpu_seconds() { # pattern → CPU seconds so far of the processes matching it
  local total=0
  for pid in $(pgrep -f "$1"); do
    total=$((total + $(awk '{print $14 + $15}' "/proc/$pid/stat" 2>/dev/null || echo 0)))
  done
  echo "$total"
}
server_before=$(cpu_seconds "$binary"); database_before=$(cpu_seconds "postgres:")
wrk -t2 -c64 -d"$duration" --latency -H "Cookie: $cookie" "$url" | tee "$work/page.txt"
server_cpu=$(( $(cpu_seconds "$binary") - server_before )); database_cpu=$(( $(cpu_seconds "postgres:") - database_before ))
if [ -n "${PROFILE:-}" ]; then
  wait %?perf 2>/dev/null || sleep 1
  perf report -i "$work/perf.data" --no-children --sort symbol --stdio -g none 2>/dev/null \
    | grep -E "^ +[0-9.]+%" | cut -c1-150 | head -30
fi
wrk -t2 -c64 -d"$duration" --latency "http://127.0.0.1:3400/bench-group-page.html" | tee "$work/static.txt"
rm -f "$site_root/bench-group-page.html"
page_rps=$(awk '/Requests\/sec/ {print $2}' "$work/page.txt")
static_rps=$(awk '/Requests\/sec/ {print $2}' "$work/static.txt")
p99=$(awk '$1 == "99%" {print $2}' "$work/page.txt")
echo "group page p99 $p99, $page_rps req/s; static file $static_rps req/s; ratio $(python3 -c "print(round($page_rps/$static_rps, 4))")"
requests=$(awk '/requests in/ {print $1}' "$work/page.txt")
ticks=$(getconf CLK_TCK)
per_request() { python3 -c "print(f'{$1/$ticks/$requests*1000:.2f} ms')"; }
echo "CPU per page request: server $(per_request "$server_cpu")$([ -n "${BENCH_PG_URL:-}" ] && echo ", PostgreSQL $(per_request "$database_cpu")")"
