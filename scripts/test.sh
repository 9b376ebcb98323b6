#!/usr/bin/env bash
# The whole test suite, on a fresh machine: installs and starts what the tests need (DynamoDB Local and
# moto, Debian's chromium, nginx, schemathesis, cfn-lint, promtool), lints deploy/, runs every Rust
# test (unit, given/when/then, end-to-end on the embedded store), the end-to-end suite again on the
# AWS backend, the browser tests and the OpenAPI contract check. Every server it starts listens on loopback only and is stopped on
# exit. Every stage runs even if an earlier one failed; the exit status says whether all passed.
set -uo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
THREADS="${TEST_THREADS:-4}"
failed=()
LOG="$(mktemp -t apikeyd-test-XXXXXX.log)"
exec > >(tee "$LOG") 2>&1

stage() {
  local name="$1"
  shift
  echo
  echo "== $name"
  if ! "$@"; then
    failed+=("$name")
  fi
}

echo "== build"
cargo build --workspace --all-targets || exit 1

echo "== emulators"
bash scripts/emulators.sh install || exit 1
exports="$(bash scripts/emulators.sh start)" || { echo "emulators did not start"; exit 1; }
eval "$exports"
trap 'bash scripts/emulators.sh stop >/dev/null 2>&1 || true' EXIT
[ "${APIKEYD_EMULATORS:-}" = 1 ] || { echo "emulator environment missing"; exit 1; }

stage "deploy lint (cfn-lint on the CloudFormation template, promtool on the Prometheus rules)" \
  bash scripts/deploy-lint.sh
stage "rust tests (embedded backend; AWS tests on the emulators)" \
  cargo test --workspace --no-fail-fast -- --test-threads="$THREADS"
stage "end-to-end suite on the AWS backend (DynamoDB Local)" \
  env APIKEYD_TEST_BACKEND=aws cargo test -p tests --test api -- --test-threads="$THREADS"
stage "browser tests" bash scripts/browser-test.sh
stage "OpenAPI contract (schemathesis)" bash scripts/schemathesis.sh

# One closing line over every runner: cargo's "test result" lines and node's "# pass/# fail".
totals="$(sed 's/\x1b\[[0-9;]*m//g' "$LOG" | awk '
  /^test result:/ { for (i = 1; i <= NF; i++) { if ($(i+1) ~ /^passed/) p += $i; if ($(i+1) ~ /^failed/) f += $i } }
  /^# pass / { p += $3 } /^# fail / { f += $3 }
  END { printf "%d passed, %d failed", p, f }')"
echo
if [ "${#failed[@]}" -gt 0 ]; then
  printf 'FAILED: %s\n' "${failed[@]}"
  echo "tests: $totals"
  exit 1
fi
echo "all test stages passed"
echo "tests: $totals"
