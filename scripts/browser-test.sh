#!/usr/bin/env bash
# Browser tests of the admin console: builds apikeyd, starts it on a free port against a fresh
# data dir, reads the port and the bootstrap admin key from its stderr, runs
# `node --test tests/browser/` against it, stops it and exits with the tests' status.
#
# Env: SKIP_BROWSER_INSTALL=1 skips scripts/install-browser.sh (chromium + npm packages);
#      APIKEYD_SCREENSHOT=off|PATH is passed to the tests (default docs/admin-keys.png).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

START_TIMEOUT_S=90   # first start runs migrations and generates the bootstrap key
TEST_TIMEOUT_S=600   # the whole browser suite; it normally takes well under a minute

if [ "${SKIP_BROWSER_INSTALL:-}" != "1" ]; then
  bash scripts/install-browser.sh
fi

cargo build -p api --bin apikeyd
BIN="${CARGO_TARGET_DIR:-$ROOT/target}/debug/apikeyd"

WORK="$(mktemp -d -t apikeyd-browser-XXXXXX)"
DATA_DIR="$WORK/data"
mkdir -p "$DATA_DIR"
SERVER_PID=""

cleanup() {
  if [ -n "$SERVER_PID" ] && kill -0 "$SERVER_PID" 2>/dev/null; then
    kill "$SERVER_PID" 2>/dev/null || true
    for _ in $(seq 1 50); do # up to 5 s for a graceful stop, then force it
      kill -0 "$SERVER_PID" 2>/dev/null || break
      sleep 0.1
    done
    kill -9 "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
  fi
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

server_log() { sed 's/\x1b\[[0-9;]*m//g' "$WORK/stderr.log" "$WORK/stdout.log" 2>/dev/null || true; }

APIKEYD_BIND=127.0.0.1:0 APIKEYD_DATA_DIR="$DATA_DIR" \
  "$BIN" serve >"$WORK/stdout.log" 2>"$WORK/stderr.log" &
SERVER_PID=$!

URL=""
deadline=$((SECONDS + START_TIMEOUT_S))
while [ -z "$URL" ]; do
  if ! kill -0 "$SERVER_PID" 2>/dev/null; then
    echo "browser-test: apikeyd exited during start-up; its output:" >&2
    server_log >&2
    exit 1
  fi
  if [ "$SECONDS" -ge "$deadline" ]; then
    echo "browser-test: apikeyd did not report 'listening on' within ${START_TIMEOUT_S}s; its output:" >&2
    server_log >&2
    exit 1
  fi
  URL="$(server_log | grep -oE 'apikeyd listening on http://127\.0\.0\.1:[0-9]+' | head -n1 | sed 's/^apikeyd listening on //' || true)"
  [ -n "$URL" ] || sleep 0.2
done

ADMIN_KEY="$(server_log | grep -oE 'vams_[A-Za-z0-9_-]{40,}' | head -n1 || true)"
if [ -z "$ADMIN_KEY" ]; then
  echo "browser-test: no bootstrap admin key (vams_…) in apikeyd's output:" >&2
  server_log | grep -v 'vams_' >&2 || true
  exit 1
fi

# The port is bound before "listening" is printed, but wait for the page itself to answer.
deadline=$((SECONDS + 30))
until curl -fsS -o /dev/null --max-time 2 "$URL/admin/"; do
  if [ "$SECONDS" -ge "$deadline" ] || ! kill -0 "$SERVER_PID" 2>/dev/null; then
    echo "browser-test: $URL/admin/ did not answer 200 within 30s" >&2
    curl -sS -i --max-time 2 "$URL/admin/" >&2 || true
    exit 1
  fi
  sleep 0.2
done

echo "browser-test: apikeyd at $URL (data dir $DATA_DIR)" >&2
status=0
APIKEYD_URL="$URL" APIKEYD_ADMIN_KEY="$ADMIN_KEY" \
  timeout --kill-after=10 "$TEST_TIMEOUT_S" node --test tests/browser/ || status=$?

if [ "$status" -ne 0 ]; then
  echo "browser-test: tests failed (status $status); last lines of apikeyd's log:" >&2
  server_log | grep -v 'vams_' | tail -n 40 >&2
fi
exit "$status"
