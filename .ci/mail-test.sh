#!/usr/bin/env bash
# Mail end to end (issue 18): a real SMTP server on loopback (aiosmtpd from
# PyPI, each message written to a folder) and the debug build:
#   - a month close mails each pay-by-invoice group's invoice once, with a
#     PDF that parses and whose total is the invoice's;
#   - with the SMTP server down during the close, the message waits and is
#     delivered once it is back;
#   - a budget threshold crossed by accruing usage (the test moves the
#     clock) sends one alert, which the API and the Overview show;
#   - two instances on one PostgreSQL database deliver each message once.
# Needs the debug build from .ci/test.sh and TEST_DATABASE_URL.
set -euo pipefail
cd "$(dirname "$0")/.."
: "${TEST_DATABASE_URL:?the mail test needs TEST_DATABASE_URL}"

venv=${MAIL_VENV:-/var/cache/billing-console/mail-venv}
if [ ! -x "$venv/bin/python" ] || ! "$venv/bin/python" -c 'import aiosmtpd, pypdf' 2>/dev/null; then
  python3 -m venv "$venv" >/dev/null 2>&1 || {
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv >/dev/null
    python3 -m venv "$venv"
  }
  "$venv/bin/pip" install -q aiosmtpd==1.4.6 pypdf==5.4.0
fi

target_dir=$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')
binary="$target_dir/debug/billing-console"
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
work=$(mktemp -d)
pids=()
smtp_pid=""
database="bc_mail_$$"
database_url="${TEST_DATABASE_URL%/*}/$database"
cleanup() {
  for pid in "${pids[@]}" $smtp_pid; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  psql "$TEST_DATABASE_URL" -qc "DROP DATABASE IF EXISTS $database WITH (FORCE)" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT
fail() { echo "FAIL: $*"; for log in "$work"/*.log; do echo "---- $log"; tail -n 30 "$log"; done; exit 1; }

cat >"$work/sink.py" <<'PY'
# An SMTP server that writes each message it accepts to a folder.
import asyncio, sys, uuid
from aiosmtpd.controller import Controller

class Sink:
    async def handle_DATA(self, server, session, envelope):
        with open(f"{sys.argv[2]}/{uuid.uuid4()}.eml", "wb") as f:
            f.write(envelope.original_content)
        return "250 OK"

controller = Controller(Sink(), hostname="127.0.0.1", port=int(sys.argv[1]))
controller.start()
asyncio.get_event_loop().run_forever()
PY
smtp_port=$(free_port)
mkdir -p "$work/mail"
start_smtp() {
  "$venv/bin/python" "$work/sink.py" "$smtp_port" "$work/mail" >>"$work/smtp.log" 2>&1 &
  smtp_pid=$!
  for _ in $(seq 1 50); do (exec 3<>/dev/tcp/127.0.0.1/"$smtp_port") 2>/dev/null && return; sleep 0.1; done
  fail "the SMTP server did not start"
}
stop_smtp() { kill "$smtp_pid"; wait "$smtp_pid" 2>/dev/null || true; smtp_pid=""; }

# mails <python filter over (subject, message)>: how many stored messages match.
mails() {
  "$venv/bin/python" - "$work/mail" "$1" <<'PY'
import email, glob, sys
from email import policy
count = 0
for path in glob.glob(sys.argv[1] + "/*.eml"):
    message = email.message_from_binary_file(open(path, "rb"), policy=policy.default)
    subject = str(message["subject"])
    if eval(sys.argv[2]):
        count += 1
print(count)
PY
}
# wait_for <what> <python filter> <count> [seconds]
wait_for() {
  local n=0
  for _ in $(seq 1 "${4:-60}"); do
    n=$(mails "$2")
    [ "$n" -ge "$3" ] && break
    sleep 1
  done
  [ "$n" -eq "$3" ] || fail "$1: expected $3 message(s), found $n"
}

clock="$work/clock"
date -u +%Y-%m-%dT%H:%M:%SZ >"$clock"
advance() { python3 - "$clock" "$1" <<'PY'
import datetime, sys
path, minutes = sys.argv[1], int(sys.argv[2])
now = datetime.datetime.fromisoformat(open(path).read().strip().replace("Z", "+00:00"))
open(path, "w").write((now + datetime.timedelta(minutes=minutes)).strftime("%Y-%m-%dT%H:%M:%SZ"))
PY
}

start_server() {  # start_server <variable> <database_url> <log>: sets <variable> to the base URL
  local port
  port=$(free_port)
  LEPTOS_SITE_ADDR="127.0.0.1:$port" LEPTOS_SITE_ROOT="target/site-test" DATABASE_URL="$2" \
  BILLING_DEMO=true MONTH_CLOSE_SCHEDULED=false TEST_CLOCK_FILE="$clock" \
  SMTP_URL="smtp://127.0.0.1:$smtp_port" MAIL_FROM="Billing console <billing@console.example>" \
    "$binary" >"$3" 2>&1 &
  pids+=($!)
  for _ in $(seq 1 150); do
    if curl -fsS "http://127.0.0.1:$port/healthz" >/dev/null 2>&1; then
      printf -v "$1" '%s' "http://127.0.0.1:$port"
      return 0
    fi
    sleep 0.2
  done
  fail "server did not become healthy"
}
token_of() {  # token_of <url>
  curl -fsS -H 'content-type: application/json' \
    -d '{"email":"demo@example.com","password":"demo-billing-2026"}' "$1/v1/userauth" \
    | python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])'
}
api() {  # api <method> <url> [body]
  curl -fsS -X "$1" -H "authorization: aivenv1 $token" -H 'content-type: application/json' \
    ${3:+-d "$3"} "$2"
}

echo "== mail on SQLite"
start_smtp
start_server url "sqlite://$work/mail.db" "$work/sqlite.log"
token=$(token_of "$url")
group=$(api GET "$url/v1/billing-group" | python3 -c 'import json,sys; print([g["billing_group_id"] for g in json.load(sys.stdin)["billing_groups"] if g["billing_group_name"]=="Acme Analytics billing"][0])')
# The demo's closed months: one invoice each, mailed to the invoice email.
wait_for "the demo's invoices" '"Invoice " in subject and "ap@acme.example" in str(message["to"])' 2

# The SMTP server goes down; last month is closed meanwhile.
stop_smtp
last_month=$(python3 -c 'import datetime; d=datetime.date.today().replace(day=1)-datetime.timedelta(days=1); print(d.strftime("%Y-%m"))')
BILLING_DEMO=true TEST_CLOCK_FILE="$clock" DATABASE_URL="sqlite://$work/mail.db" "$binary" close-month --period "$last_month" >"$work/close.log"
for _ in $(seq 1 30); do
  queued=$(api GET "$url/v1/billing-group/$group/deliveries" | python3 -c '
import json, sys
print(sum(1 for d in json.load(sys.stdin)["deliveries"] if d["kind"] == "invoice" and d["state"] == "queued" and d["last_error"]))')
  [ "$queued" = 1 ] && break
  sleep 1
done
[ "$queued" = 1 ] || fail "the invoice did not wait for the mail server"
invoice=$(api GET "$url/v1/billing-group/$group/invoice" | python3 -c '
import json, sys
print([i for i in json.load(sys.stdin)["invoices"] if i["state"] != "estimate"][0]["invoice_number"])')
state=$(api GET "$url/v1/billing-group/$group/invoice/$invoice" | python3 -c 'import json,sys; print(json.load(sys.stdin)["invoice"]["state"])')
[ "$state" = issued ] || fail "an undelivered invoice is $state, not issued"

# Back up: at its retry time (the test clock moves past it) it is
# delivered once, with its PDF, and the invoice is mailed.
start_smtp
advance 1
wait_for "last month's invoice" "'$invoice' in subject" 1 90
total=$(api GET "$url/v1/billing-group/$group/invoice/$invoice" | python3 -c 'import json,sys; print(json.load(sys.stdin)["invoice"]["total_inc_vat"])')
"$venv/bin/python" - "$work/mail" "$invoice" "$total" <<'PY' || fail "the invoice's PDF"
import email, glob, io, sys
from email import policy
from pypdf import PdfReader
folder, number, total = sys.argv[1:]
for path in glob.glob(folder + "/*.eml"):
    message = email.message_from_binary_file(open(path, "rb"), policy=policy.default)
    if number not in str(message["subject"]):
        continue
    pdfs = [p for p in message.iter_attachments() if p.get_content_type() == "application/pdf"]
    assert len(pdfs) == 1, "one PDF attached"
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdfs[0].get_content())).pages)
    assert number in text, "the PDF is the invoice"
    grouped = f"{float(total):,.2f}"  # the PDF groups thousands, as screens do
    assert grouped in text, f"the PDF's total is {grouped}"
    assert f"Total: {total} EUR" in message.get_body(("plain",)).get_content(), "the body's total"
    print("ok: the invoice's PDF parses and shows", total)
PY
state=$(api GET "$url/v1/billing-group/$group/invoice/$invoice" | python3 -c 'import json,sys; print(json.load(sys.stdin)["invoice"]["state"])')
[ "$state" = mailed ] || fail "a delivered invoice is $state, not mailed"

# A budget just above the month so far, alerting at 100 %: an hour of
# usage crosses it; one alert, whatever the evaluations after.
actual=$(api GET "$url/v1/billing-group/$group/budget" | python3 -c 'import json,sys; print(json.load(sys.stdin)["budget"]["actual"])')
amount=$(python3 -c "print('%.2f' % (float('$actual') + 0.5))")
api PUT "$url/v1/billing-group/$group/budget" "{\"amount\": \"$amount\", \"thresholds\": [100]}" >/dev/null
advance 61
wait_for "the budget alert" '"100 % reached" in subject' 1 90
advance 20
sleep 40
[ "$(mails '"100 % reached" in subject')" = 1 ] || fail "the budget alert was sent again"
sent=$(api GET "$url/v1/billing-group/$group/budget" | python3 -c 'import json,sys; print(json.load(sys.stdin)["budget"]["alerts_sent"])')
grep -q "actual:100" <<<"$sent" || fail "the API does not show the alert: $sent"
echo "ok: mail on SQLite"

echo "== two instances on PostgreSQL"
kill "${pids[@]}" 2>/dev/null || true
wait "${pids[@]}" 2>/dev/null || true
pids=()
rm -f "$work"/mail/*.eml
psql "$TEST_DATABASE_URL" -qc "CREATE DATABASE $database" >/dev/null
start_server url_a "$database_url" "$work/pg-a.log"
start_server url_b "$database_url" "$work/pg-b.log"
token=$(token_of "$url_a")
account=$(api GET "$url_a/v1/account" | python3 -c 'import json,sys; print([a["account_id"] for a in json.load(sys.stdin)["accounts"] if a["account_name"]=="Acme Analytics"][0])')
for i in $(seq 1 30); do
  api POST "$url_a/v1/account/$account/invitations" "{\"email\": \"person$i@example.com\", \"role\": \"viewer\"}" >/dev/null
done
wait_for "thirty invitations" '"invited you" in subject' 30 90
sleep 10
"$venv/bin/python" - "$work/mail" <<'PY' || fail "a message was delivered twice"
import collections, email, glob, sys
from email import policy
ids = collections.Counter()
for path in glob.glob(sys.argv[1] + "/*.eml"):
    message = email.message_from_binary_file(open(path, "rb"), policy=policy.default)
    ids[str(message["message-id"])] += 1
twice = [i for i, n in ids.items() if n > 1]
assert not twice, f"delivered more than once: {twice}"
print(f"ok: {len(ids)} messages, each delivered once")
PY
grep -q "mail delivered" "$work/pg-a.log" && grep -q "mail delivered" "$work/pg-b.log" \
  || echo "(one instance delivered everything this time)"
echo "ok: mail on two instances"
