#!/usr/bin/env bash
# Metrics (issue 30): Prometheus from Debian scrapes the server's /metrics
# on METRICS_ADDR, and after a month close its HTTP API answers with the
# invoices that close issued; the alert rules in docs/prometheus pass
# promtool. Needs the debug build from .ci/test.sh.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v prometheus >/dev/null; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends prometheus >/dev/null
fi
promtool check rules docs/prometheus/alerts.yml

target_dir=$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')
binary="$target_dir/debug/billing-console"
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
work=$(mktemp -d)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

port=$(free_port); metrics_port=$(free_port); prometheus_port=$(free_port)
printf '%s\n' "2026-12-07T10:00:00Z" >"$work/clock"
export TEST_CLOCK_FILE="$work/clock" DATABASE_URL="sqlite://$work/db.sqlite" \
  LEPTOS_SITE_ADDR="127.0.0.1:$port" LEPTOS_SITE_ROOT=target/site-test SHUTDOWN_DRAIN_SECONDS=0
healthy() {
  for _ in $(seq 1 150); do
    curl -fsS "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 && return 0
    sleep 0.2
  done
  cat "$1"; echo "the server did not become healthy"; exit 1
}

# The demo, with last month left open (no scheduled close)...
BILLING_DEMO=true MONTH_CLOSE_SCHEDULED=false "$binary" serve >"$work/seed.log" 2>&1 &
seed=$!
healthy "$work/seed.log"
kill -TERM "$seed"; wait "$seed"
# ...then the server with metrics on their own address and the scheduled
# close on: it closes 2026-11 as it starts (the demo seller; nothing is
# seeded into a database that holds data).
BILLING_DEMO=true METRICS_ADDR="127.0.0.1:$metrics_port" MONTH_CLOSE_SCHEDULED=true \
  "$binary" serve >"$work/server.log" 2>&1 &
pids+=($!)
healthy "$work/server.log"
[ "$(curl -sS -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/metrics")" != "200" ] \
  || { echo "/metrics is public on the main address"; exit 1; }

cat >"$work/prometheus.yml" <<YML
global:
  scrape_interval: 1s
rule_files: ["$PWD/docs/prometheus/alerts.yml"]
scrape_configs:
  - job_name: billing-console
    static_configs:
      - targets: ["127.0.0.1:$metrics_port"]
YML
prometheus --config.file="$work/prometheus.yml" --storage.tsdb.path="$work/tsdb" \
  --web.listen-address="127.0.0.1:$prometheus_port" >"$work/prometheus.log" 2>&1 &
pids+=($!)

query() {  # the first sample's value of an instant query, or nothing
  curl -fsS --get "http://127.0.0.1:$prometheus_port/api/v1/query" --data-urlencode "query=$1" 2>/dev/null \
    | python3 -c 'import json,sys; r=json.load(sys.stdin)["data"]["result"]; print(r[0]["value"][1] if r else "")' 2>/dev/null || true
}
issued=""
for _ in $(seq 1 120); do
  issued=$(query 'billing_month_close_invoices_issued_total{job="billing-console"}')
  [ -n "$issued" ] && break
  sleep 0.5
done
[ -n "$issued" ] || { tail -20 "$work/prometheus.log"; tail -20 "$work/server.log"; echo "Prometheus never got the month close's metric"; exit 1; }
invoices=$(DATABASE_URL="sqlite://$work/db.sqlite" python3 - "$work/db.sqlite" <<'PY'
import sqlite3, sys
c = sqlite3.connect(sys.argv[1])
print(c.execute("SELECT COUNT(*) FROM invoices WHERE period_begin LIKE '2026-11-01%'").fetchone()[0])
PY
)
[ "${issued%.*}" = "$invoices" ] && [ "$invoices" -gt 0 ] \
  || { echo "Prometheus says $issued invoice(s) issued; the database holds $invoices for 2026-11"; exit 1; }
echo "ok: Prometheus scraped the month close: $issued invoice(s) issued, as in the database"
for metric in 'up{job="billing-console"}' 'billing_outbox_waiting' 'billing_db_pool_max_connections' \
              'billing_job_last_success_timestamp_seconds{job_name="month closer"}' \
              'billing_http_requests_total{route="/healthz"}'; do
  [ -n "$(query "$metric")" ] || { echo "Prometheus has no $metric"; exit 1; }
done
echo "ok: up, outbox, pool, job and request series are scraped"
