#!/usr/bin/env bash
# The deployment test (issue 7): nginx from Debian with
# docs/nginx/billing-console.conf, two instances of the built server on one
# PostgreSQL database with BASE_PATH=/billing, and the Playwright suite
# through nginx at /billing/ with requests spread over both. Needs TEST_DATABASE_URL (a role that may
# create databases) and the debug build from .ci/test.sh.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v nginx >/dev/null; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nginx >/dev/null
fi
: "${TEST_DATABASE_URL:?the deployment test needs TEST_DATABASE_URL}"

target_dir=$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')
binary="$target_dir/debug/billing-console"
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

work=$(mktemp -d)
database="bc_deploy_$$"
database_url="${TEST_DATABASE_URL%/*}/$database"
psql "$TEST_DATABASE_URL" -qc "CREATE DATABASE $database" >/dev/null
port_a=$(free_port); port_b=$(free_port); port_nginx=$(free_port)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  [ -f "$work/nginx.pid" ] && kill "$(cat "$work/nginx.pid")" 2>/dev/null || true
  wait 2>/dev/null || true
  psql "$TEST_DATABASE_URL" -qc "DROP DATABASE IF EXISTS $database WITH (FORCE)" >/dev/null 2>&1 || true
  psql "$TEST_DATABASE_URL" -qc "DROP DATABASE IF EXISTS ${database}_restored WITH (FORCE)" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

# Both instances, the operator commands the specs run and the specs read
# one fixed instant, as in .ci/e2e.sh; webhooks may go to loopback (the
# webhooks spec's receiver), as in .ci/e2e.sh.
printf '%s\n' "${E2E_CLOCK:-2026-11-16T10:00:00Z}" >"$work/clock"
export TEST_CLOCK_FILE="$work/clock"
start() {  # start <port> <log>
  LEPTOS_SITE_ADDR="127.0.0.1:$1" LEPTOS_SITE_ROOT="target/site-test" DATABASE_URL="$database_url" \
  BILLING_DEMO=true MONTH_CLOSE_SCHEDULED=false TRUSTED_PROXIES=127.0.0.1 BASE_PATH=/billing \
  SHUTDOWN_DRAIN_SECONDS=5 WEBHOOK_ALLOW_PRIVATE_TARGETS=true \
    "$binary" >"$2" 2>&1 &
  pids+=($!)
  for _ in $(seq 1 150); do
    curl -fsS "http://127.0.0.1:$1/healthz" >/dev/null 2>&1 && return 0
    sleep 0.2
  done
  cat "$2"; echo "instance on port $1 did not become healthy"; exit 1
}
# The first instance seeds the demo data; the second finds it there.
start "$port_a" "$work/a.log"
start "$port_b" "$work/b.log"

# nginx with the repository's site file; only the ports change.
sed -e "s/127.0.0.1:3000/127.0.0.1:$port_a/; s/127.0.0.1:3001/127.0.0.1:$port_b/" \
    -e "s/listen 80;/listen 127.0.0.1:$port_nginx;/" \
    docs/nginx/billing-console.conf >"$work/site.conf"
cat >"$work/nginx.conf" <<CONF
worker_processes 1;
pid $work/nginx.pid;
error_log $work/nginx-error.log;
events {}
http {
    include /etc/nginx/mime.types;
    log_format upstream '\$upstream_addr \$status \$request';
    access_log $work/access.log upstream;
    client_body_temp_path $work/body;
    proxy_temp_path $work/proxy;
    fastcgi_temp_path $work/fastcgi;
    uwsgi_temp_path $work/uwsgi;
    scgi_temp_path $work/scgi;
    include $work/site.conf;
}
CONF
nginx -t -c "$work/nginx.conf" -p "$work" 2>&1 | tail -1
nginx -c "$work/nginx.conf" -p "$work"
base="http://127.0.0.1:$port_nginx/billing/"
for _ in $(seq 1 50); do curl -fsS "${base}healthz" >/dev/null 2>&1 && break; sleep 0.1; done
[ "$(curl -sS -o /dev/null -w '%{http_code} %{redirect_url}' "http://127.0.0.1:$port_nginx/billing")" = "301 http://127.0.0.1:$port_nginx/billing/" ] \
  || { echo "nginx does not send /billing to /billing/"; exit 1; }

echo "== a session made on one instance works on the other"
cookie=$(curl -sS -o /dev/null -D - -X POST "http://127.0.0.1:$port_a/billing/api/sign_in" \
  -H 'content-type: application/x-www-form-urlencoded' -H 'accept: text/html' \
  --data 'email=demo%40example.com&password=demo-billing-2026&next=%2Fprojects' \
  | tr -d '\r' | sed -n 's/^[Ss]et-[Cc]ookie: \([^;]*\).*/\1/p' | head -1)
[ -n "$cookie" ] || { echo "no session cookie from instance A"; exit 1; }
page=$(curl -sS -H "cookie: $cookie" "http://127.0.0.1:$port_b/billing/projects")
grep -q 'Projects &amp; accounts\|Projects & accounts' <<<"$page" || { echo "instance B did not accept A's session"; exit 1; }
echo "ok: signed in on :$port_a, served by :$port_b"

echo "== Playwright through nginx ($base), both instances behind it"
status=0
# The first-run and visual specs start servers of their own (.ci/test.sh runs them).
(cd end2end && BASE_URL="$base" BILLING_BIN="$binary" DATABASE_URL="$database_url" BILLING_DEMO=true \
  npx playwright test --grep-invert "@first-run|@visual|@bytes") || status=$?
served_a=$(grep -c "^127.0.0.1:$port_a " "$work/access.log" || true)
served_b=$(grep -c "^127.0.0.1:$port_b " "$work/access.log" || true)
echo "requests served: instance A $served_a, instance B $served_b"
if grep -q "panicked" "$work/a.log" "$work/b.log"; then
  echo "an instance panicked:"; grep -h -A3 "panicked" "$work/a.log" "$work/b.log" | head -20
  status=1
fi
if [ "$status" -ne 0 ]; then
  echo "---- instance A ----"; tail -n 40 "$work/a.log"
  echo "---- instance B ----"; tail -n 40 "$work/b.log"
  exit "$status"
fi
if [ "$served_a" -lt 50 ] || [ "$served_b" -lt 50 ]; then
  echo "requests were not spread over both instances"; exit 1
fi

echo "== pg_dump and pg_restore of the suite's database (docs/DEPLOY.md, Backups and restore)"
pg_dump --format=custom --file="$work/billing.dump" "$database_url"
psql "$TEST_DATABASE_URL" -qc "CREATE DATABASE ${database}_restored" >/dev/null
pg_restore --no-owner --dbname="${database_url}_restored" "$work/billing.dump"
for table in users accounts memberships billing_groups projects services service_runs \
             invoices invoice_lines credit_notes credit_note_lines credits events account_events outbox; do
  digest="SELECT count(*) || ' ' || coalesce(md5(string_agg(t::text, '|' ORDER BY t::text)), '-') FROM $table t"
  original=$(psql "$database_url" -tAc "$digest")
  restored=$(psql "${database_url}_restored" -tAc "$digest")
  [ "$original" = "$restored" ] || { echo "$table differs after pg_restore: $original against $restored"; exit 1; }
done
echo "ok: every table's rows are the same in the restored database ($(psql "$database_url" -tAc 'SELECT count(*) FROM invoices') invoices)"
DATABASE_URL="${database_url}_restored" "$binary" rates list >/dev/null 2>"$work/restored.err" \
  || { cat "$work/restored.err"; echo "the restored database does not open"; exit 1; }
grep -q "database: PostgreSQL postgres://billing_test:\*\*\*@" "$work/restored.err" \
  || { cat "$work/restored.err"; echo "the command did not name its database without the password"; exit 1; }

echo "== readiness: both instances ready; one draining answers 503 while nginx still serves"
for port in "$port_a" "$port_b"; do
  curl -fsS "http://127.0.0.1:$port/readyz" | grep -q '"status":"ready"' \
    || { curl -sS "http://127.0.0.1:$port/readyz"; echo "instance :$port is not ready"; exit 1; }
done
kill -TERM "${pids[0]}"
sleep 1
[ "$(curl -sS -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port_a/readyz")" = "503" ] \
  || { echo "a draining instance did not answer /readyz with 503"; exit 1; }
for _ in 1 2 3 4 5 6; do
  [ "$(curl -sS -o /dev/null -w '%{http_code}' "${base}healthz")" = "200" ] \
    || { echo "nginx stopped serving while one instance drained"; exit 1; }
  sleep 1
done
wait "${pids[0]}" || { echo "the drained instance did not exit 0"; exit 1; }
echo "ok: drained and stopped; nginx served throughout from the other instance"
