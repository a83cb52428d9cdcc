#!/usr/bin/env bash
# Issue 20, the browser's side: what a first visit downloads per page
# (headless Chromium counting the bytes the network carried, headers
# included, until the page is hydrated: end2end/tests/first-visit.spec.ts),
# how the bundle is served (build-time brotli/gzip, hashed names, caching
# headers), and what compressing a page on the fly costs per level
# (bench/compression.rs, on the group page and, for scale, the WASM).
# Needs the run command's build:
#   bash .ci/build-release.sh
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"
target_dir=$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')
binary=${BINARY:-$target_dir/release/billing-console}
site=${LEPTOS_SITE_ROOT:-target/site}
cargo build --release --features ssr --example bench-compression -q

echo "== the bundle in $site/pkg (bytes: raw, brotli, gzip)"
for f in "$site"/pkg/*.{js,wasm,css}; do
  [ -f "$f" ] || continue
  printf '%9s %9s %9s  %s\n' "$(stat -c %s "$f")" "$(stat -c %s "$f.br" 2>/dev/null || echo -)" \
    "$(stat -c %s "$f.gz" 2>/dev/null || echo -)" "$(basename "$f")"
done

work=$(mktemp -d)
port=${PORT:-3170}
LEPTOS_SITE_ADDR="127.0.0.1:$port" LEPTOS_SITE_ROOT="$site" DATABASE_URL="sqlite://$work/bench.db" \
  BILLING_DEMO=true MONTH_CLOSE_SCHEDULED=false RUST_LOG=warn "$binary" >"$work/server.log" 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null; rm -rf "$work"' EXIT
for _ in $(seq 1 100); do curl -fsS "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 && break; sleep 0.1; done
base="http://127.0.0.1:$port"

echo "== how the main WASM module is served"
wasm=$(basename "$(ls -S "$site"/pkg/*.wasm | head -1)")
curl -s -o /dev/null -D - -H 'Accept-Encoding: br, gzip' "$base/pkg/$wasm" \
  | grep -i -E '^(content-encoding|content-length|cache-control|vary):'
for i in 1 2 3; do
  curl -s -o /dev/null -H 'Accept-Encoding: br' -w "served in %{time_total} s\n" "$base/pkg/$wasm"
done
echo "== a page's headers"
curl -s -o /dev/null -D - -H 'Accept-Encoding: br, gzip' "$base/signin" \
  | grep -i -E '^(content-encoding|cache-control):'

echo "== first visits (Chromium, empty cache)"
(cd end2end && BASE_URL="$base" npx playwright test tests/first-visit.spec.ts --reporter=line) \
  | grep -E 'first visit|^ +[0-9]+ |passed|failed'

echo "== compression of a page on the fly, per level"
curl -s -o /dev/null -c "$work/jar" -H 'Accept: text/html' -H "Referer: $base/signin" \
  --data 'email=demo%40example.com&password=demo-billing-2026&next=%2Fprojects' "$base/api/sign_in"
group=$(curl -s -b "$work/jar" "$base/projects" | grep -o '/account/[^"/]*/billing' | head -1)
group=$(curl -s -b "$work/jar" "$base$group" | grep -o '/billing-group/[0-9a-f-]*' | head -1)
curl -s -b "$work/jar" "$base$group" >"$work/group-page.html"
"$target_dir/release/examples/bench-compression" "$work/group-page.html" "$site/pkg/$wasm"
