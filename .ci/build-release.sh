#!/usr/bin/env bash
# The release build, without cargo-leptos: what `cargo leptos build
# --release --precompress` does with this project's settings, in plain
# steps. cargo for the server and the WASM (the WASM in a target folder of
# its own, as cargo-leptos keeps it, so the two builds' dependency features
# never mix), wasm-bindgen, wasm-opt, content-hashed names (which the
# server finds in the site folder, src/server/bundle.rs), and brotli and
# gzip copies of each. Building cargo-leptos took 6 of a fresh machine's
# 17 minutes (docs/BENCHMARKS.md); it stays for `cargo leptos watch` in
# development.
#   build-release.sh                  server and site
#   build-release.sh --frontend-only  the site only (the test command)
# The site goes to $LEPTOS_SITE_ROOT (default target/site), replaced whole.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"
site=${LEPTOS_SITE_ROOT:-target/site}
name=billing-console
target_dir=$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')

if [ "${1:-}" != --frontend-only ]; then
  cargo build --release --no-default-features --features ssr --bin billing-console
fi
cargo build --lib --target wasm32-unknown-unknown --profile wasm-release \
  --no-default-features --features hydrate --target-dir "$target_dir/front"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
wasm-bindgen --target=web --no-typescript --out-name="$name" --out-dir="$work" \
  "$target_dir/front/wasm32-unknown-unknown/wasm-release/billing_console.wasm"
# The flags cargo-leptos passes (its release default).
wasm-opt -Oz --enable-bulk-memory --enable-nontrapping-float-to-int \
  "$work/${name}_bg.wasm" -o "$work/$name.wasm"
cp style/main.css "$work/$name.css"

rm -rf "$site"
mkdir -p "$site/pkg"
cp -r public/. "$site/"
for extension in js wasm css; do
  file="$work/$name.$extension"
  hash=$(python3 -c 'import base64,hashlib,sys; print(base64.urlsafe_b64encode(hashlib.md5(open(sys.argv[1],"rb").read()).digest()).decode().rstrip("="))' "$file")
  cp "$file" "$site/pkg/$name.$hash.$extension"
done
find "$site" -type f ! -name '*.br' ! -name '*.gz' | while read -r file; do
  gzip -9 -n -k "$file"
  brotli -q 11 -k "$file"
done
echo "site built in $site"
