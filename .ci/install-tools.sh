#!/usr/bin/env bash
# Installs every tool the build and the tests need, from the package registries
# only (crates.io, npm, Debian). Safe to run again: each step is skipped when
# its tool is already present at the right version.
#   install-tools.sh         everything the tests need (the test command, CI)
#   install-tools.sh build   only what building needs (the run command)
#   install-tools.sh dev     everything, and cargo-leptos for `cargo leptos watch`
set -euo pipefail
cd "$(dirname "$0")/.."
what=${1:-all}

log() { echo "[install-tools] $*"; }

# Build tools are compiled from crates.io. Their own release profiles (fat
# LTO, one codegen unit) made cargo-leptos alone take 19 minutes on a fresh
# machine; a build tool does not need that (docs/BENCHMARKS.md).
cheap_release() {
  CARGO_PROFILE_RELEASE_LTO=off CARGO_PROFILE_RELEASE_CODEGEN_UNITS=16 \
  CARGO_PROFILE_RELEASE_OPT_LEVEL=1 CARGO_PROFILE_RELEASE_DEBUG=0 \
  CARGO_PROFILE_RELEASE_STRIP=true "$@"
}

export PATH="$HOME/.cargo/bin:$PATH"

# 1. The browser target for the hydrate build.
if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
  log "adding rust target wasm32-unknown-unknown"
  rustup target add wasm32-unknown-unknown
fi

# 2. cargo-leptos 0.3.11, for development only (`cargo leptos watch`); the
#    run and test commands build with .ci/build-release.sh. Its own lockfile needs a newer rustc than this
#    machine's, so it is built from its crates.io source with one dependency
#    pinned back (cargo-util-schemas 0.14.1).
if [ "$what" = dev ] && ! cargo leptos --version 2>/dev/null | grep -q '0\.3\.11'; then
  log "building cargo-leptos 0.3.11 from crates.io source (a few minutes, once)"
  cargo info cargo-leptos@0.3.11 >/dev/null
  src=$(ls -d "$HOME"/.cargo/registry/src/*/cargo-leptos-0.3.11 | head -1)
  tmp=$(mktemp -d)
  cp -r "$src" "$tmp/cargo-leptos"
  (cd "$tmp/cargo-leptos" && cargo update -p cargo-util-schemas --precise 0.14.1 \
     && cheap_release cargo install --path . --locked)
  rm -rf "$tmp"
fi

# 3. wasm-bindgen CLI at exactly the version in Cargo.lock (cargo-leptos would
#    otherwise try to download it from outside the registries, which fails).
wb_version=$(awk '/^name = "wasm-bindgen"$/{getline; gsub(/version = |"/,""); print; exit}' Cargo.lock)
if ! wasm-bindgen --version 2>/dev/null | grep -q " $wb_version\$"; then
  log "installing wasm-bindgen-cli $wb_version"
  cheap_release cargo install wasm-bindgen-cli --version "$wb_version" --force
fi

# 4. wasm-opt for release builds (Debian's binaryen 108 breaks hydration).
if ! wasm-opt --version 2>/dev/null | grep -q 'version 132'; then
  log "installing binaryen@132 (wasm-opt) from npm"
  npm install -g binaryen@132
fi

# 5. brotli, for the bundle's precompressed copies.
if ! command -v brotli >/dev/null; then
  log "installing Debian brotli"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq brotli
fi

# 6. The invoice PDFs' fonts (Noto Sans and Noto Sans CJK), read at run time.
if [ ! -f /usr/share/fonts/truetype/noto/NotoSans-Regular.ttf ] \
  || [ ! -f /usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc ]; then
  log "installing Debian fonts-noto-core and fonts-noto-cjk"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq fonts-noto-core fonts-noto-cjk
fi

if [ "$what" = build ]; then
  log "build tools ready"
  exit 0
fi

# 7. Chromium for the end-to-end tests.
if ! command -v chromium >/dev/null; then
  log "installing Debian chromium"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium
fi

# 8. Playwright test runner and axe (never its browser download).
if [ ! -x end2end/node_modules/.bin/playwright ] || [ ! -d end2end/node_modules/@axe-core/playwright ]; then
  log "installing end2end npm packages"
  (cd end2end && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund)
fi
log "tools ready"
