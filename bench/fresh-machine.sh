#!/usr/bin/env bash
# Issue 20: the README's two commands on a machine that has only Rust
# (rustup and its toolchain), Debian's packages and the npm registry:
# a clean clone, an empty cargo home (crates.io is downloaded again), no
# cargo-installed tools and an empty target folder. Prints the minutes from
# `bash .ci/serve.sh` to the console answering /healthz, then the minutes of
# `bash .ci/test.sh` run right after it. Takes as long as it measures.
#   bash bench/fresh-machine.sh [--run-only]
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d /var/tmp/fresh-machine.XXXX)
trap 'kill $(jobs -p) 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$work"' EXIT

# A home of its own: its .cargo/bin holds only rustup's proxies, so
# cargo-leptos and wasm-bindgen-cli are built as on a fresh machine.
export HOME="$work/home" CARGO_HOME="$work/home/.cargo"
export RUSTUP_HOME=${RUSTUP_HOME:-/root/.rustup}
mkdir -p "$CARGO_HOME/bin"
proxies=$(dirname "$(command -v rustup)")
for tool in rustup cargo rustc rustdoc rustfmt cargo-fmt cargo-clippy clippy-driver; do
  ln -s "$proxies/$tool" "$CARGO_HOME/bin/$tool"
done
# And nothing of this machine's own cargo home on the PATH.
PATH=$(tr ':' '\n' <<<"$PATH" | grep -v '/\.cargo/bin$' | paste -sd: -)
export PATH="$CARGO_HOME/bin:$PATH"
unset CARGO_TARGET_DIR CARGO_INCREMENTAL
git clone -q "$repo" "$work/clone"
[ -d "$repo/../shared" ] && ln -s "$(cd "$repo/.." && pwd)/shared" "$work/shared"
cd "$work/clone"

started=$(date +%s)
LEPTOS_SITE_ADDR=127.0.0.1:3290 DATABASE_URL="sqlite://$work/fresh.db" bash .ci/serve.sh >"$work/serve.log" 2>&1 &
until curl -fsS http://127.0.0.1:3290/healthz >/dev/null 2>&1; do
  kill -0 $! 2>/dev/null || { tail -30 "$work/serve.log"; echo "the run command failed"; exit 1; }
  sleep 2
done
run_seconds=$(( $(date +%s) - started ))
grep -E '^\[install-tools\]|Finished|finished' "$work/serve.log" | sed 's/\x1b\[[0-9;]*m//g' || true
echo "run command: fresh clone to a console answering in $((run_seconds / 60)) min $((run_seconds % 60)) s"
[ "${1:-}" = --run-only ] && exit 0

started=$(date +%s)
bash .ci/test.sh >"$work/test.log" 2>&1 || { tail -40 "$work/test.log"; echo "the test command failed"; exit 1; }
test_seconds=$(( $(date +%s) - started ))
echo "test command right after: $((test_seconds / 60)) min $((test_seconds % 60)) s"
