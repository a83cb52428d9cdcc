#!/usr/bin/env bash
# The real Aiven client against the REST API (issue 6), on both backends:
# aiven-client 4.18.0 from PyPI in a virtualenv, a fresh server with demo
# data on SQLite and then on PostgreSQL (TEST_DATABASE_URL), and a scenario
# covering `avn user login`, `account list`, `project create
# --billing-group-id` and every `billing-group` subcommand, asserting on
# what avn prints. Then schemathesis fuzzes /v1 against its OpenAPI
# document with a valid token: no 5xx, every response as documented.
# Needs the debug build from .ci/test.sh.
set -euo pipefail
cd "$(dirname "$0")/.."

venv=${AVN_VENV:-/var/cache/billing-console/venv}
if [ ! -x "$venv/bin/avn" ] || [ ! -x "$venv/bin/schemathesis" ]; then
  if ! python3 -m venv "$venv" >/dev/null 2>&1; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv >/dev/null
    python3 -m venv "$venv"
  fi
  "$venv/bin/pip" install -q aiven-client==4.18.0 schemathesis==4.32.5
fi

target_dir=$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')
binary="$target_dir/debug/billing-console"
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
work=$(mktemp -d)
pids=()
pg_database=""
cleanup() {
  # start_server runs in $(…), a subshell: its servers' pids come back in a file.
  for pid in "${pids[@]}" $(cat "$work/pids" 2>/dev/null); do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  if [ -n "$pg_database" ]; then
    psql "$TEST_DATABASE_URL" -qc "DROP DATABASE IF EXISTS $pg_database WITH (FORCE)" >/dev/null 2>&1 || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT

fail() { echo "FAIL: $*"; exit 1; }
# expect <what> <regex> <text>: the text must match.
expect() { grep -Eq -- "$2" <<<"$3" || { echo "$3"; fail "$1: expected /$2/"; }; }

start_server() {  # start_server <database_url> <log> <clock file>: prints the base URL
  local port
  port=$(free_port)
  # The server's clock is a file the scenario moves forward (TEST_CLOCK_FILE).
  date -u +%Y-%m-%dT%H:%M:%SZ >"$3"
  LEPTOS_SITE_ADDR="127.0.0.1:$port" LEPTOS_SITE_ROOT="target/site-test" DATABASE_URL="$1" \
  BILLING_DEMO=true MONTH_CLOSE_SCHEDULED=false TEST_CLOCK_FILE="$3" "$binary" >"$2" 2>&1 &
  echo $! >>"$work/pids"
  for _ in $(seq 1 150); do
    curl -fsS "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 && { echo "http://127.0.0.1:$port"; return 0; }
    sleep 0.2
  done
  cat "$2" >&2; fail "server did not become healthy"
}

# Usage in (issue 17): a price list import, then a service's life through
# avn while the clock moves: it accrues, changes plan mid-hour (two lines at
# two prices on the estimate), powers off and is terminated.
services_scenario() {  # services_scenario <database_url> <primary group of acme-prod>
  local database_url=$1 primary=$2 out before after
  cat >"$work/prices.csv" <<'CSV'
service_type,plan,cloud,hourly_price_usd,valid_from,node_count,cpu_count,memory_mb,disk_mb
valkey,startup-4,,0.2,2020-01-01,1,2,4096,0
valkey,business-4,google-europe-north1,0.55,2020-01-01,2,2,4096,0
CSV
  out=$(TEST_CLOCK_FILE="$clock" DATABASE_URL="$database_url" "$binary" prices import "$work/prices.csv")
  expect "prices import" "2 added, 0 changed" "$out"
  out=$(TEST_CLOCK_FILE="$clock" DATABASE_URL="$database_url" "$binary" prices import "$work/prices.csv")
  expect "prices import again" "0 added, 0 changed, 2 unchanged" "$out"
  out=$(avn service plans --service-type valkey --cloud google-europe-north1)
  expect "service plans" "valkey:business-4 +\\\$0.550/h" "$out"
  expect "service plans" "valkey:startup-4 +\\\$0.200/h" "$out"
  out=$(avn service types)
  expect "service types" "pg +PostgreSQL" "$out"

  out=$(avn service create avn-pg -t pg --plan business-4 --cloud google-europe-north1 --project acme-prod 2>&1)
  out=$(avn service list --project acme-prod)
  expect "service list" "avn-pg +pg +RUNNING +google-europe-north1 +business-4" "$out"
  out=$(avn service create avn-pg -t pg --plan business-4 --project acme-prod 2>&1) && fail "a taken service name was accepted"
  expect "service create twice" "\(status 409\)" "$out"
  out=$(avn service create bad-plan -t pg --plan business-99 --project acme-prod 2>&1) && fail "an unknown plan was accepted"
  expect "unknown plan" "plan: .*\(status 400\)" "$out"

  estimate_total() { avn billing-group invoice-list "$primary" --json | python3 -c 'import json,sys; print([i["total_vat_zero"] for i in json.load(sys.stdin) if i["state"]=="estimate"][0])'; }
  before=$(estimate_total)
  advance 61
  after=$(estimate_total)
  python3 -c "import sys; sys.exit(0 if float('$after') - float('$before') >= 0.75 else 1)" \
    || fail "the estimate did not grow by an hour of business-4 ($before → $after EUR)"

  advance 10
  avn service update avn-pg --plan business-8 --project acme-prod
  out=$(avn service get avn-pg --project acme-prod)
  expect "service get" "avn-pg +pg +RUNNING .* business-8" "$out"
  out=$(avn service update avn-pg --plan business-8 --project acme-prod 2>&1) && fail "a plan change to the same plan was accepted"
  expect "same plan" "update failed: plan: .*already on plan business-8" "$out"
  advance 120
  out=$(avn billing-group invoice-lines "$primary" estimate --json | python3 -c '
import json, sys
lines = [l for l in json.load(sys.stdin) if l["service_name"] == "avn-pg"]
print(" ".join(sorted("%s@%s" % (l["service_plan"], l["line_total_usd"]) for l in lines)))')
  expect "two lines at two prices" "^business-4@1.64 business-8@3.29$" "$out"

  avn service update avn-pg --power-off --project acme-prod
  out=$(avn service get avn-pg --project acme-prod)
  expect "power off" "POWEROFF" "$out"
  out=$(avn service update avn-pg --power-off --project acme-prod 2>&1) && fail "a powered-off service was powered off again"
  expect "power off twice" "update failed: .*already powered off" "$out"
  avn service terminate avn-pg --force --project acme-prod
  out=$(avn service list --project acme-prod)
  grep -q "avn-pg" <<<"$out" && fail "a terminated service is still listed"
  out=$(avn service terminate avn-pg --force --project acme-prod 2>&1) && fail "a service was terminated twice"
  expect "terminate twice" "\(status 404\)" "$out"
  echo "ok: services through avn"
}

# The developer role (issue 29): a platform engineer runs services through
# avn, and is refused billing and member changes with 403.
developer_scenario() {  # developer_scenario <primary group> <account>
  local primary=$1 account=$2 out token
  local saved_dir=$AIVEN_CONFIG_DIR saved_file=$AIVEN_CREDENTIALS_FILE
  export AIVEN_CONFIG_DIR="$work/developer-config" AIVEN_CREDENTIALS_FILE="$work/developer-config/credentials.json"
  mkdir -p "$AIVEN_CONFIG_DIR"
  out=$(AIVEN_PASSWORD=demo-billing-2026 avn user login developer@example.com 2>&1)
  expect "developer login" "credentials written" "$out"
  avn service create dev-pg -t pg --plan business-4 --project acme-prod
  out=$(avn service list --project acme-prod)
  expect "developer's service" "dev-pg +pg +RUNNING" "$out"
  avn service terminate dev-pg --force --project acme-prod
  out=$(avn billing-group update "$primary" --billing-email someone@example.com 2>&1) \
    && fail "a developer changed billing details"
  expect "developer and billing" "\(status 403\)" "$out"
  token=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["auth_token"])' "$AIVEN_CREDENTIALS_FILE")
  out=$(curl -sS -o /dev/null -w '%{http_code}' -X POST -H "authorization: aivenv1 $token" \
    -H 'content-type: application/json' --data '{"email":"new@example.com","role":"viewer"}' \
    "$url/v1/account/$account/invitations")
  [ "$out" = "403" ] || fail "a developer's invitation answered $out, not 403"
  export AIVEN_CONFIG_DIR=$saved_dir AIVEN_CREDENTIALS_FILE=$saved_file
  echo "ok: a developer runs services and is refused billing and member changes"
}

scenario() {  # scenario <label> <database_url>
  local label=$1 database_url=$2 url clock="$work/$1.clock"
  url=$(start_server "$database_url" "$work/$label.log" "$clock")
  # advance <minutes>: moves the server's clock forward.
  advance() { python3 - "$clock" "$1" <<'PY'
import datetime, sys
path, minutes = sys.argv[1], int(sys.argv[2])
now = datetime.datetime.fromisoformat(open(path).read().strip().replace("Z", "+00:00"))
open(path, "w").write((now + datetime.timedelta(minutes=minutes)).strftime("%Y-%m-%dT%H:%M:%SZ"))
PY
  }
  echo "== avn scenario on $label ($url)"
  export AIVEN_CONFIG_DIR="$work/$label-config" AIVEN_CREDENTIALS_FILE="$work/$label-config/credentials.json"
  mkdir -p "$AIVEN_CONFIG_DIR"
  avn() { "$venv/bin/avn" --url "$url" "$@"; }
  local out

  out=$(AIVEN_PASSWORD=wrong avn user login demo@example.com 2>&1) && fail "login with a wrong password succeeded"
  expect "wrong password" "Wrong email or password. \(status 401\)" "$out"
  out=$(AIVEN_PASSWORD=demo-billing-2026 avn user login demo@example.com 2>&1)
  expect "login" "credentials written" "$out"

  out=$(avn account list)
  expect "account list" "Acme Analytics" "$out"
  expect "account list" "Globex Logistics" "$out"
  local account
  account=$(avn account list --json | python3 -c 'import json,sys; print([a["account_id"] for a in json.load(sys.stdin) if a["account_name"]=="Acme Analytics"][0])')

  # Accounts (the demo user is an operator): create, then rename.
  out=$(avn account create --name "CLI account")
  expect "account create" "CLI account" "$out"
  local created
  created=$(avn account list --json | python3 -c 'import json,sys; print([a["account_id"] for a in json.load(sys.stdin) if a["account_name"]=="CLI account"][0])')
  out=$(avn account update "$created" --name "CLI account renamed")
  expect "account update" "CLI account renamed" "$out"
  out=$(avn account create --name "" 2>&1) && fail "an account without a name was created"
  expect "account create without a name" "account_name: .*\(status 400\)" "$out"

  out=$(avn billing-group create "CLI group" --account-id "$account" --billing-currency EUR \
        --billing-email ap@acme.example --company "Acme Oy" --address-line "Mannerheimintie 1" \
        --country-code FI --city Helsinki --zip-code 00100 --vat-id FI12345671 -v)
  expect "billing-group create" "CLI group +Acme Analytics" "$out"
  expect "billing-group create -v" "vat_id +?= FI12345671" "$out"
  expect "billing-group create -v" "billing_emails +?= ap@acme.example" "$out"
  local group primary
  group=$(avn billing-group list --json | python3 -c 'import json,sys; print([g["billing_group_id"] for g in json.load(sys.stdin) if g["billing_group_name"]=="CLI group"][0])')
  primary=$(avn billing-group list --json | python3 -c 'import json,sys; print([g["billing_group_id"] for g in json.load(sys.stdin) if g["billing_group_name"]=="Acme Analytics billing"][0])')

  out=$(avn billing-group create "Bad VAT" --account-id "$account" --country-code FI --vat-id FI000 2>&1) && fail "a bad VAT ID was accepted"
  expect "bad VAT ID" "vat_id: .*\(status 400\)" "$out"
  out=$(avn billing-group list)
  expect "billing-group list" "CLI group" "$out"
  grep -q "Bad VAT" <<<"$out" && fail "a refused create left a group behind"

  avn billing-group update "$group" --name "CLI group renamed" --city Espoo
  out=$(avn project create cli-project --parent-id "$account" --billing-group-id "$group" 2>&1)
  expect "project create" "successfully created" "$out"
  out=$(avn project create cli-project --parent-id "$account" 2>&1) && fail "a taken project name was accepted"
  expect "project create twice" "already exists. \(status 409\)" "$out"
  avn billing-group assign-projects "$group" acme-sandbox

  out=$(avn billing-group get "$group" -v)
  expect "billing-group get -v" "CLI group renamed" "$out"
  expect "billing-group get -v" "city +?= Espoo" "$out"
  expect "billing-group get -v projects" "acme-sandbox" "$out"
  expect "billing-group get -v projects" "cli-project" "$out"

  out=$(avn billing-group events "$group")
  expect "events" "moved in from billing group" "$out"
  expect "events" "Renamed from 'CLI group' to 'CLI group renamed'" "$out"
  out=$(avn billing-group events "$group" -n 1 --json)
  [ "$(python3 -c 'import json,sys; print(len(json.load(sys.stdin)))' <<<"$out")" = 1 ] || fail "events -n 1"

  local code
  code=$(DATABASE_URL="$database_url" "$binary" credits issue --value 50 --type promotion --expires 2099-01-31)
  avn billing-group credits-claim "$group" "$code"
  out=$(avn billing-group credits-claim "$group" "$code" 2>&1) && fail "a code was claimed twice"
  expect "credits-claim twice" "already been claimed" "$out"
  out=$(avn billing-group credits-list "$group")
  expect "credits-list" "$code +50.00" "$out"

  out=$(avn billing-group invoice-list "$primary" -v)
  expect "invoice-list" "estimate +20[0-9-]+T00:00:00Z" "$out"
  expect "invoice-list -v download" "/v1/billing-group/$primary/invoice/.+/[0-9a-f]{32,}" "$out"
  local invoice download
  invoice=$(avn billing-group invoice-list "$primary" --json | python3 -c 'import json,sys; print([i["invoice_number"] for i in json.load(sys.stdin) if i["state"]!="estimate"][0])')
  out=$(avn billing-group invoice-lines "$primary" "$invoice")
  expect "invoice-lines" "service_charge" "$out"
  download=$(avn billing-group invoice-list "$primary" --json | python3 -c 'import json,sys; print([i for i in json.load(sys.stdin) if i["state"]!="estimate"][0]["download_cookie"])')
  curl -fsS "$url/v1/billing-group/$primary/invoice/$invoice/$download" | head -c 4 | grep -q "%PDF" || fail "the download link is not a PDF"

  services_scenario "$database_url" "$primary"
  developer_scenario "$primary" "$account"

  out=$(avn billing-group delete "$group" 2>&1) && fail "a group with projects was deleted"
  expect "delete refused" "still has projects.*\(status 409\)" "$out"
  curl -fsS -X POST -H "authorization: aivenv1 $(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["auth_token"])' "$AIVEN_CREDENTIALS_FILE")" \
    "$url/v1/billing-group/$primary/project-assign/acme-sandbox" >/dev/null
  curl -fsS -X POST -H "authorization: aivenv1 $(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["auth_token"])' "$AIVEN_CREDENTIALS_FILE")" \
    "$url/v1/billing-group/$primary/project-assign/cli-project" >/dev/null
  avn billing-group delete "$group"
  out=$(avn billing-group list)
  grep -q "CLI group renamed" <<<"$out" && fail "the deleted group is still listed"
  echo "ok: avn scenario on $label"
  LAST_URL=$url
}

# schemathesis against the server's own document, with a valid token.
fuzz() {  # fuzz <label> <url>
  echo "== schemathesis on $1: /v1/openapi.json"
  local token
  token=$(curl -fsS -X POST -H 'content-type: application/json' \
    -d '{"email":"demo@example.com","password":"demo-billing-2026"}' "$2/v1/userauth" \
    | python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])')
  local status=0
  "$venv/bin/schemathesis" run "$2/v1/openapi.json" \
    --header "authorization: aivenv1 $token" \
    --checks not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance,response_headers_conformance \
    --max-examples "${SCHEMATHESIS_EXAMPLES:-60}" --seed 1 >"$work/fuzz-$1.txt" 2>&1 || status=$?
  if [ "$status" -ne 0 ]; then
    cat "$work/fuzz-$1.txt"; fail "schemathesis on $1"
  fi
  tail -n 12 "$work/fuzz-$1.txt"
  echo "ok: schemathesis on $1"
}

scenario sqlite "sqlite://$work/avn.db"
fuzz sqlite "$LAST_URL"
if [ -n "${TEST_DATABASE_URL:-}" ]; then
  pg_database="bc_avn_$$"
  psql "$TEST_DATABASE_URL" -qc "CREATE DATABASE $pg_database" >/dev/null
  scenario postgres "${TEST_DATABASE_URL%/*}/$pg_database"
  fuzz postgres "$LAST_URL"
fi
