#!/usr/bin/env bash
# The FOCUS export (issue 30): the FinOps Foundation's focus-validator from
# PyPI (1.0.0, which runs on this Python with multimethod<1.11) checks a
# group's and an account's export against FOCUS 1.0, with a credit note
# among the rows, and each export's BilledCost adds up to the invoices and
# credit notes the API lists, to the cent. Needs the debug build from
# .ci/test.sh.
set -euo pipefail
cd "$(dirname "$0")/.."

venv=${FOCUS_VENV:-/var/cache/billing-console/focus-venv}
if [ ! -x "$venv/bin/focus-validator" ]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q "focus-validator==1.0.0" "multimethod<1.11"
fi

target_dir=$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')
binary="$target_dir/debug/billing-console"
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
work=$(mktemp -d)
pid=""
cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null; wait 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT

port=$(free_port)
printf '%s\n' "2026-12-07T10:00:00Z" >"$work/clock"
TEST_CLOCK_FILE="$work/clock" DATABASE_URL="sqlite://$work/db.sqlite" LEPTOS_SITE_ADDR="127.0.0.1:$port" \
  LEPTOS_SITE_ROOT=target/site-test BILLING_DEMO=true SHUTDOWN_DRAIN_SECONDS=0 \
  "$binary" serve >"$work/server.log" 2>&1 &
pid=$!
for _ in $(seq 1 150); do curl -fsS "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 && break; sleep 0.2; done

"$venv/bin/python" - "http://127.0.0.1:$port" "$work" "$venv/bin/focus-validator" <<'PY'
import csv, io, json, subprocess, sys, urllib.request
from decimal import Decimal

base, work, validator = sys.argv[1], sys.argv[2], sys.argv[3]

def call(method, path, body=None, token=None):
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(base + path, data=data, method=method)
    request.add_header("content-type", "application/json")
    if token:
        request.add_header("authorization", "aivenv1 " + token)
    with urllib.request.urlopen(request) as response:
        return response.read()

token = json.loads(call("POST", "/v1/userauth", {"email": "demo@example.com", "password": "demo-billing-2026"}))["token"]
get = lambda path: json.loads(call("GET", path, token=token))
accounts = get("/v1/account")["accounts"]
exports = []
for account in accounts:
    groups = [g for g in get("/v1/billing-group")["billing_groups"] if g["account_id"] == account["account_id"]]
    for group in groups:
        gid = group["billing_group_id"]
        invoices = get(f"/v1/billing-group/{gid}/invoice")["invoices"]
        issued = [i for i in invoices if i["state"] != "estimate"]
        if issued and not any(n for n in get(f"/v1/billing-group/{gid}/credit-note")["credit_notes"]):
            target = next((i for i in issued if Decimal(i["total_inc_vat"]) > 0), None)
            if target:
                call("POST", f"/v1/billing-group/{gid}/invoice/{target['invoice_number']}/credit-note",
                     {"reason": "FOCUS check"}, token)
        notes = get(f"/v1/billing-group/{gid}/credit-note")["credit_notes"]
        months = sorted(i["period_begin"][:7] for i in invoices)
        text = call("GET", f"/v1/billing-group/{gid}/focus?from={months[0]}&to={months[-1]}", token=token).decode()
        rows = list(csv.DictReader(io.StringIO(text)))
        for invoice in invoices:
            number = "" if invoice["invoice_number"] == "estimate" else invoice["invoice_number"]
            billed = sum(Decimal(r["BilledCost"]) for r in rows if r["x_InvoiceNumber"] == number and not r["x_CreditNoteNumber"])
            assert billed == Decimal(invoice["total_inc_vat"]), (gid, invoice["invoice_number"], billed, invoice["total_inc_vat"])
        for note in notes:
            billed = sum(Decimal(r["BilledCost"]) for r in rows if r["x_CreditNoteNumber"] == note["credit_note_number"])
            assert billed == Decimal(note["total_inc_vat"]), (note["credit_note_number"], billed, note["total_inc_vat"])
        total = sum(Decimal(i["total_inc_vat"]) for i in invoices) + sum(Decimal(n["total_inc_vat"]) for n in notes)
        assert sum(Decimal(r["BilledCost"]) for r in rows) == total
        print(f"ok: {group['billing_group_name']}: {len(rows)} rows, BilledCost {total} {group['billing_currency']} "
              f"= {len(invoices)} invoice(s) and {len(notes)} credit note(s) to the cent")
        exports.append((f"group-{gid}", text))
    whole = call("GET", f"/v1/account/{account['account_id']}/focus?from=2026-09&to=2026-12", token=token).decode()
    exports.append((f"account-{account['account_id']}", whole))

assert any("Correction" in text for _, text in exports), "no credit note among the rows"
import focus_validator, os
# The validator reads its currency list from a path relative to the
# working directory: run it from where the package is installed.
packages = os.path.dirname(os.path.dirname(focus_validator.__file__))
overrides = os.path.abspath(".ci/focus-overrides.yaml")
for name, text in exports:
    rows = list(csv.DictReader(io.StringIO(text)))
    unpriced = [r for r in rows if r["ChargeCategory"] in ("Usage", "Purchase") and not r["SkuPriceId"]]
    assert not unpriced, f"{name}: Usage rows without SkuPriceId: {unpriced[:1]}"
    path = f"{work}/{name}.csv"
    open(path, "w").write(text)
    result = subprocess.run([validator, "--data-file", path, "--validate-version", "1.0",
                             "--override-file", overrides],
                            capture_output=True, text=True, cwd=packages)
    output = result.stdout + result.stderr
    if result.returncode != 0 or "failed" in output.lower() or "Traceback" in output:
        print(output[-4000:])
        sys.exit(f"focus-validator refused {name}.csv")
    print(f"ok: focus-validator 1.0 passes {name}.csv ({text.count(chr(10)) - 1} rows)")
PY
