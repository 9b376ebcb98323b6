#!/usr/bin/env bash
# Contract check: schemathesis (PyPI) against a live apikeyd, driven by the server's own
# /openapi.json, authenticated with the bootstrap admin key. Fails on any 5xx and on any response
# whose status, content type or body the document does not describe, and unless at least
# MIN_CASES (1000) cases ran.
#
#   bash scripts/schemathesis.sh            # builds apikeyd if needed, runs, cleans up
#   MAX_EXAMPLES=100 SEED=7 bash scripts/schemathesis.sh
#
# schemathesis lives in a git-ignored venv (.tools/schemathesis); the server runs on 127.0.0.1 on a
# fresh data dir and is stopped on exit. Every wait is bounded; the run itself by RUN_TIMEOUT.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

SCHEMATHESIS_VERSION="${SCHEMATHESIS_VERSION:-4.32.5}"
VENV="$ROOT/.tools/schemathesis"
MAX_EXAMPLES="${MAX_EXAMPLES:-60}"
MIN_CASES="${MIN_CASES:-1000}"
SEED="${SEED:-20261126}"
RUN_TIMEOUT="${RUN_TIMEOUT:-280}"

if [ "$("$VENV/bin/schemathesis" --version 2>/dev/null)" != "schemathesis, version $SCHEMATHESIS_VERSION" ]; then
  echo "== installing schemathesis $SCHEMATHESIS_VERSION into $VENV"
  # From scratch: a venv left half-made by an interrupted install has no pip, and `venv` over it
  # would not add one.
  rm -rf "$VENV"
  python3 -m venv "$VENV"
  timeout 600 "$VENV/bin/pip" install --quiet --disable-pip-version-check "schemathesis==$SCHEMATHESIS_VERSION"
fi

cargo build --quiet -p api --bin apikeyd
APIKEYD="${CARGO_TARGET_DIR:-$ROOT/target}/debug/apikeyd"

WORK="$(mktemp -d -t apikeyd-schemathesis-XXXXXX)"
SERVER_PID=""
cleanup() {
  if [ -n "$SERVER_PID" ]; then
    kill -TERM "$SERVER_PID" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$SERVER_PID" 2>/dev/null || break; sleep 0.2; done
    kill -KILL "$SERVER_PID" 2>/dev/null || true
  fi
  rm -rf "$WORK"
}
trap cleanup EXIT

# The admin schemathesis acts as has a user id and admin role it cannot guess: the document's examples
# (user "admin", role "admin") and the fuzzer may revoke, delete or reassign anything else, and the
# run would go on as a locked-out caller. "admin" exists as an ordinary role and user to give the
# examples something to act on.
# The failed-authentication limit is off: the generated /auth/verify and /auth/check calls present
# hundreds of refused keys from one address, and the limit would then answer 429 to everything after
# them, leaving the operations behind it untested. Its 429s are covered by the ops tests.
ROOT_NAME="st-root-$RANDOM$RANDOM"
env -u APIKEYD_CONFIG -u APIKEYD_PUBLIC_URL -u APIKEYD_TRUSTED_PROXIES \
  -u APIKEYD_BACKEND -u APIKEYD_MAX_BODY_BYTES -u APIKEYD_MAX_HEADER_BYTES \
  APIKEYD_ADMIN_ROLES="$ROOT_NAME" APIKEYD_BOOTSTRAP_ADMIN="$ROOT_NAME" APIKEYD_AUTH_FAIL_LIMIT=0 \
  APIKEYD_DATA_DIR="$WORK/data" APIKEYD_BIND=127.0.0.1:0 RUST_LOG=warn \
  "$APIKEYD" serve >"$WORK/server.stdout" 2>"$WORK/server.stderr" &
SERVER_PID=$!

ADDRESS=""
for _ in $(seq 600); do
  ADDRESS="$(sed -n 's/^apikeyd listening on \(http:[^ ]*\).*/\1/p' "$WORK/server.stderr" | head -n1)"
  [ -n "$ADDRESS" ] && break
  kill -0 "$SERVER_PID" 2>/dev/null || { cat "$WORK/server.stderr"; echo "apikeyd exited early" >&2; exit 1; }
  sleep 0.1
done
[ -n "$ADDRESS" ] || { cat "$WORK/server.stderr"; echo "apikeyd did not start within 60 s" >&2; exit 1; }
KEY="$(grep -Eo '^vams_[A-Za-z0-9_-]+' "$WORK/server.stderr" | head -n1)"
[ -n "$KEY" ] || { echo "no bootstrap key on stderr" >&2; exit 1; }
fixture() {
  curl -fsS --max-time 10 -X "$1" -H "Authorization: Bearer $KEY" -H 'Content-Type: application/json' \
    -d "$3" "$ADDRESS$2" >/dev/null
}
fixture POST /roles '{"roleName":"admin","description":"example role for the generated requests"}'
fixture POST /user-roles '{"userId":"admin","roleName":["admin"]}'
echo "== schemathesis $SCHEMATHESIS_VERSION against $ADDRESS (max $MAX_EXAMPLES examples per operation, seed $SEED)"

# Operations that can take the caller's own rights away (delete its role, replace or remove its user's
# roles, deactivate, rotate with no grace or delete its key: the fuzzer finds their names in the
# listings) run in a second pass, so that everything else is exercised by a caller that still has them.
REVOKING=(roles.delete user-roles.replace user-roles.remove_all api-keys.update api-keys.rotate api-keys.delete)
keep=() only=()
for id in "${REVOKING[@]}"; do keep+=(--exclude-operation-id "$id"); only+=(--include-operation-id "$id"); done

total=0
run_pass() { # label filter-args…
  local label="$1"; shift
  local out="$WORK/schemathesis-$label.out" status cases
  echo "== pass: $label"
  set +e
  (cd "$WORK" && timeout "$RUN_TIMEOUT" "$VENV/bin/schemathesis" run "$ADDRESS/openapi.json" "$@" \
    --checks not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance \
    --header "Authorization: Bearer $KEY" \
    --generation-with-security-parameters false \
    --max-examples "$MAX_EXAMPLES" \
    --seed "$SEED" \
    --max-redirects 0 \
    --request-timeout 10 \
    --generation-database none \
    --output-sanitize true \
    --no-color) | tee "$out"
  status=${PIPESTATUS[0]}
  set -e
  if grep -q "panicked" "$WORK/server.stderr"; then
    echo "apikeyd panicked during the run:" >&2
    grep -A5 "panicked" "$WORK/server.stderr" >&2
    exit 1
  fi
  [ "$status" -eq 0 ] || { echo "schemathesis failed (exit $status) in pass $label" >&2; exit "$status"; }
  # The summary reads e.g. "Test cases:\n  1234 generated, 1234 passed".
  cases="$(grep -Eo '[0-9]+ generated' "$out" | tail -n1 | grep -Eo '[0-9]+' || true)"
  [ -n "$cases" ] || { echo "no case count in the output of pass $label" >&2; exit 1; }
  total=$((total + cases))
}

started=$(date +%s)
run_pass keeps-rights "${keep[@]}"
run_pass revoking "${only[@]}"
elapsed=$(( $(date +%s) - started ))
if [ "$total" -lt "$MIN_CASES" ]; then
  echo "only $total cases ran; at least $MIN_CASES required" >&2
  exit 1
fi
echo "== schemathesis passed: $total cases in ${elapsed}s"
