#!/usr/bin/env bash
# The README's test command: installs what is missing, then runs every test.
#   - unit and integration tests (the store conformance suite and the rules
#     on SQLite; on PostgreSQL too when TEST_DATABASE_URL is set),
#   - the end-to-end suite in Chromium against a freshly built server with
#     its own SQLite database and demo data, at a fixed instant (.ci/e2e.sh).
# Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"

bash .ci/install-tools.sh

echo "== cargo test (SQLite${TEST_DATABASE_URL:+ and PostgreSQL})"
# This also builds the server binary the end-to-end suite runs, so the
# server and its dependencies are compiled once, not again by cargo-leptos.
cargo test --features ssr

# The browser bundle goes to a site folder of its own: the run command's
# release bundle in target/site (perhaps being served) stays as it is. It
# is the release bundle, built as the run command builds it (the two share
# the compiled WASM), so the suite tests what people get and the
# first-visit check measures the real bytes.
export LEPTOS_SITE_ROOT=target/site-test
echo "== release WASM bundle and styles into $LEPTOS_SITE_ROOT (.ci/build-release.sh --frontend-only)"
bash .ci/build-release.sh --frontend-only

echo "== end-to-end (Playwright, Chromium) at ${E2E_CLOCK:-the default instant}"
bash .ci/e2e.sh
