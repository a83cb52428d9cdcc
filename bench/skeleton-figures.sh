#!/usr/bin/env bash
# Figures of the walking skeleton for docs/BENCHMARKS.md:
#   release WASM size (raw, gzip), bytes a first visit to the projects &
#   accounts page transfers (HTML + CSS + JS + WASM, as sent with
#   Accept-Encoding: gzip, br), and server RSS at idle after that visit.
# Needs a release build first: cargo leptos build --release
set -euo pipefail
cd "$(dirname "$0")/.."
target_dir=$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')
binary="$target_dir/release/billing-console"
pkg=target/site/pkg
[ -x "$binary" ] && [ -f "$pkg/billing-console.wasm" ] || { echo "run: cargo leptos build --release"; exit 1; }

wasm_raw=$(stat -c %s "$pkg/billing-console.wasm")
wasm_gzip=$(gzip -9 -c "$pkg/billing-console.wasm" | wc -c)

work=$(mktemp -d)
port=${PORT:-3170}
LEPTOS_SITE_ADDR="127.0.0.1:$port" DATABASE_URL="sqlite://$work/bench.db" BILLING_DEMO=true RUST_LOG=warn \
  "$binary" >"$work/server.log" 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null; rm -rf "$work"' EXIT
for _ in $(seq 1 100); do curl -fsS "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 && break; sleep 0.1; done

base="http://127.0.0.1:$port"
curl -s -o /dev/null -c "$work/jar" -H 'Accept: text/html' -H "Referer: $base/signin" \
  --data 'email=demo%40example.com&password=demo-billing-2026&next=%2Fprojects' "$base/api/sign_in"
transferred() { curl -s -b "$work/jar" -H 'Accept-Encoding: gzip, br' -o /dev/null -w '%{size_download}' "$base$1"; }
html=$(transferred /projects)
css=$(transferred /pkg/billing-console.css)
js=$(transferred /pkg/billing-console.js)
wasm=$(transferred /pkg/billing-console.wasm)
total=$((html + css + js + wasm))
sleep 5
rss_kib=$(awk '/VmRSS/ {print $2}' "/proc/$pid/status")

cat <<OUT
release WASM: ${wasm_raw} bytes raw, ${wasm_gzip} bytes gzip -9
first visit of /projects (compressed on the wire): HTML ${html} + CSS ${css} + JS ${js} + WASM ${wasm} = ${total} bytes
server RSS at idle after the visit: ${rss_kib} KiB
OUT
