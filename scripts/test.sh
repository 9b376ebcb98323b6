#!/usr/bin/env bash
# The whole test suite, on a fresh machine: installs and starts what the tests need (emulators,
# Debian's chromium), runs every Rust test (unit, given/when/then, end-to-end), then the browser tests.
# Every server it starts listens on loopback only and is stopped on exit.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

echo "== build"
cargo build --workspace --all-targets

if [ -f scripts/emulators.sh ]; then
  echo "== emulators"
  bash scripts/emulators.sh install
  # shellcheck disable=SC1090
  source <(bash scripts/emulators.sh start)
  trap 'bash scripts/emulators.sh stop || true' EXIT
fi

echo "== rust tests"
cargo test --workspace --no-fail-fast -- --test-threads="${TEST_THREADS:-4}"

echo "== browser tests"
bash scripts/browser-test.sh

echo "== OpenAPI contract (schemathesis)"
bash scripts/schemathesis.sh
