#!/usr/bin/env bash
# The README's run command: from a fresh machine to a running console at
# http://127.0.0.1:3000 on SQLite with demo data. Safe to run again; an
# existing database is kept and never re-seeded.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"

bash .ci/install-tools.sh build
bash .ci/build-release.sh

target_dir=$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')
BILLING_DEMO=${BILLING_DEMO:-true} exec "$target_dir/release/billing-console" "$@"
