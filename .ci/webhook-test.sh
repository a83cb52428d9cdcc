#!/usr/bin/env bash
# Webhooks end to end (issue 30): a real receiver on loopback verifies every
# delivery's signature with the `standardwebhooks` package (PyPI, the
# specification's own library) and is down for the first delivery:
#   - an endpoint is added through /v1 (loopback allowed here by the
#     operator setting WEBHOOK_ALLOW_PRIVATE_TARGETS, as CI's receiver needs);
#   - removing two members sends two member.removed deliveries; the first
#     gets 503 and is tried again after its back-off (10 s), the second is
#     taken at once; both arrive verified, the first with two tries listed;
#   - without the setting, the same URL is refused with a field error.
# Needs the debug build from .ci/test.sh.
set -euo pipefail
cd "$(dirname "$0")/.."

venv=${WEBHOOK_VENV:-/var/cache/billing-console/webhook-venv}
if [ ! -x "$venv/bin/python" ] || ! "$venv/bin/python" -c 'import standardwebhooks' 2>/dev/null; then
  python3 -m venv "$venv" >/dev/null 2>&1 || {
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv >/dev/null
    python3 -m venv "$venv"
  }
  "$venv/bin/pip" install -q standardwebhooks==1.3.0
fi

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
fail() { echo "FAIL: $*"; for log in "$work"/*.log; do echo "---- $log"; tail -n 30 "$log"; done; exit 1; }

cat >"$work/receiver.py" <<'PY'
# A webhook receiver: answers 503 to the first POST (it is down), then
# verifies each delivery with standardwebhooks and writes one JSON line per
# delivery it took: its id, type, and whether the signature verified.
import json, sys
from http.server import BaseHTTPRequestHandler, HTTPServer
from standardwebhooks.webhooks import Webhook

port, secret_file, out = int(sys.argv[1]), sys.argv[2], sys.argv[3]
seen = {"posts": 0}

class Handler(BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("content-length", 0)))
        seen["posts"] += 1
        if seen["posts"] == 1:
            self.send_response(503); self.end_headers(); self.wfile.write(b"down"); return
        headers = {k.lower(): v for k, v in self.headers.items()}
        try:
            payload = Webhook(open(secret_file).read().strip()).verify(body, headers)
            verified = True
        except Exception as error:
            payload, verified = json.loads(body), False
            print("not verified:", error, file=sys.stderr, flush=True)
        with open(out, "a") as f:
            f.write(json.dumps({"id": headers.get("webhook-id"), "type": payload["type"],
                                "data": payload["data"], "verified": verified}) + "\n")
        self.send_response(204 if verified else 400); self.end_headers()
    def log_message(self, *args):
        pass

HTTPServer(("127.0.0.1", port), Handler).serve_forever()
PY

receiver_port=$(free_port)
touch "$work/secret" "$work/received.jsonl"
"$venv/bin/python" "$work/receiver.py" "$receiver_port" "$work/secret" "$work/received.jsonl" >"$work/receiver.log" 2>&1 &
pids+=($!)
hook_url="http://127.0.0.1:$receiver_port/hooks"

start_server() {  # start_server <variable> <allow private: true|false> <database> <log>
  local port
  port=$(free_port)
  LEPTOS_SITE_ADDR="127.0.0.1:$port" LEPTOS_SITE_ROOT="target/site-test" DATABASE_URL="$3" \
  BILLING_DEMO=true MONTH_CLOSE_SCHEDULED=false WEBHOOK_ALLOW_PRIVATE_TARGETS="$2" \
    "$binary" >"$4" 2>&1 &
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
token_of() {
  curl -fsS -H 'content-type: application/json' \
    -d '{"email":"demo@example.com","password":"demo-billing-2026"}' "$1/v1/userauth" \
    | python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])'
}
api() {  # api <method> <url> [body]
  curl -sS -X "$1" -H "authorization: aivenv1 $token" -H 'content-type: application/json' \
    ${3:+-d "$3"} "$2"
}

echo "== an endpoint on loopback is refused without the operator's setting"
start_server strict false "sqlite://$work/strict.db" "$work/strict.log"
token=$(token_of "$strict")
account=$(api GET "$strict/v1/account" | python3 -c 'import json,sys; print([a["account_id"] for a in json.load(sys.stdin)["accounts"] if a["account_name"]=="Acme Analytics"][0])')
refused=$(api POST "$strict/v1/account/$account/webhooks" "{\"url\": \"$hook_url\", \"events\": [\"member.removed\"]}")
python3 - "$refused" <<'PY' || fail "a loopback endpoint was not refused: $refused"
import json, sys
answer = json.loads(sys.argv[1])
assert any(e["field"] == "url" and "public" in e["message"] for e in answer["errors"]), answer
PY
[ "$(api GET "$strict/v1/account/$account/webhooks" | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["webhooks"]))')" = 0 ] \
  || fail "a refused endpoint was stored"
echo "ok: refused"

echo "== signed deliveries, one retried after the receiver was down"
start_server url true "sqlite://$work/hooks.db" "$work/server.log"
token=$(token_of "$url")
account=$(api GET "$url/v1/account" | python3 -c 'import json,sys; print([a["account_id"] for a in json.load(sys.stdin)["accounts"] if a["account_name"]=="Acme Analytics"][0])')
created=$(api POST "$url/v1/account/$account/webhooks" "{\"url\": \"$hook_url\", \"events\": [\"member.removed\", \"invoice.paid\"], \"description\": \"CI receiver\"}")
python3 -c 'import json,sys; print(json.loads(sys.argv[1])["secret"])' "$created" >"$work/secret" \
  || fail "no endpoint: $created"
members=$(api GET "$url/v1/account/$account/members")
for email in developer@example.com billing@example.com; do
  user_id=$(python3 -c 'import json,sys; print([m["user_id"] for m in json.loads(sys.argv[1])["members"] if m["user_email"]==sys.argv[2]][0])' "$members" "$email") \
    || fail "no member $email in $members"
  api DELETE "$url/v1/account/$account/members/$user_id" >/dev/null
done
for _ in $(seq 1 60); do
  [ "$(wc -l <"$work/received.jsonl")" -ge 2 ] && break
  sleep 1
done
"$venv/bin/python" - "$work/received.jsonl" <<'PY' || fail "the deliveries"
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1])]
assert len(lines) == 2, lines
assert all(l["verified"] for l in lines), lines
assert sorted(l["data"]["email"] for l in lines) == ["billing@example.com", "developer@example.com"], lines
assert all(l["type"] == "member.removed" for l in lines), lines
print("ok: 2 deliveries verified by standardwebhooks")
PY
api GET "$url/v1/account/$account/webhook-deliveries" >"$work/deliveries.json"
python3 - "$work/deliveries.json" <<'PY' || fail "the deliveries' tries: $(cat "$work/deliveries.json")"
import json, sys
deliveries = json.load(open(sys.argv[1]))["deliveries"]
assert len(deliveries) == 2 and all(d["state"] == "sent" for d in deliveries), deliveries
tries = sorted(len(d["attempts"]) for d in deliveries)
assert tries == [1, 2], tries
retried = [d for d in deliveries if len(d["attempts"]) == 2][0]
first, second = retried["attempts"]
assert not first["succeeded"] and first["detail"].startswith("HTTP 503"), first
assert second["succeeded"] and second["detail"] == "HTTP 204", second
print("ok: the delivery the receiver refused was retried:", first["detail"], "then", second["detail"])
PY
echo "ok: webhooks"
