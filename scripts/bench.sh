#!/usr/bin/env bash
# Load benchmark of a release apikeyd on the embedded backend, loopback only, every run bounded
# (wrk -d). Prints wrk's results and the server's resident memory; docs/BENCHMARKS.md records them.
#   bash scripts/bench.sh            # DURATION=10s CONNECTIONS=64 THREADS=1 by default
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
DURATION="${DURATION:-10s}"
CONNECTIONS="${CONNECTIONS:-64}"
THREADS="${THREADS:-1}"

command -v wrk >/dev/null || { apt-get update >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y wrk >/dev/null; }
cargo build --release -p api --bin apikeyd
BIN="$ROOT/target/release/apikeyd"
WORK="$(mktemp -d -t apikeyd-bench-XXXXXX)"
PID=""
cleanup() { [ -n "$PID" ] && kill "$PID" 2>/dev/null; wait "$PID" 2>/dev/null || true; rm -rf "$WORK"; }
trap cleanup EXIT

APIKEYD_BIND=127.0.0.1:0 APIKEYD_DATA_DIR="$WORK/data" RUST_LOG=warn APIKEYD_AUTH_FAIL_LIMIT=0 \
  "$BIN" serve >"$WORK/out.log" 2>"$WORK/err.log" &
PID=$!
for _ in $(seq 1 100); do grep -q "listening on" "$WORK/err.log" 2>/dev/null && break; sleep 0.1; done
URL="$(grep -o 'http://127.0.0.1:[0-9]*' "$WORK/err.log" | tail -1)"
ADMIN="$(grep -oE 'vams_[A-Za-z0-9_-]{40,}' "$WORK/err.log" | head -1)"
[ -n "$URL" ] && [ -n "$ADMIN" ] || { cat "$WORK/err.log"; exit 1; }
rss() { awk '/VmRSS/ {print $2 " kB"}' "/proc/$PID/status"; }
echo "server $URL (pid $PID), resident after start: $(rss)"

echo; echo "== create keys (POST /auth/api-keys, $DURATION, 4 connections: SQLite serializes writers)"
APIKEYD_BENCH_KEY="$ADMIN" wrk -t1 -c4 -d"$DURATION" --latency -s scripts/bench/create.lua "$URL"
KEYS="$(curl -s -H "Authorization: Bearer $ADMIN" "$URL/auth/api-keys" | grep -o '"apiKeyId"' | wc -l)"
echo "live keys now: $KEYS, resident: $(rss)"

echo; echo "== GET /auth/check, valid key (nginx auth_request path)"
wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" --latency -H "Authorization: Bearer $ADMIN" "$URL/auth/check"
echo; echo "== POST /auth/verify, valid key"
APIKEYD_BENCH_KEY="$ADMIN" wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" --latency -s scripts/bench/verify.lua "$URL/auth/verify"
echo; echo "== GET /auth/check, unknown key (401)"
wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" --latency -H "Authorization: Bearer vams_$(head -c 48 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=')" "$URL/auth/check"
echo; echo "== GET /api/version (no auth: the HTTP stack alone)"
wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" --latency "$URL/api/version"
echo; echo "resident after load: $(rss)"

# Read-side rows (functions in scripts/bench/readside.sh): /auth/check against /api/version of this
# server, then resident bytes per key and start-to-ready at READ_MODEL_KEYS keys (own servers).
source "$ROOT/scripts/bench/readside.sh"
echo; echo "== read side"
echo "| figure | apikeyd | baseline | ratio | goal |"
echo "|---|---|---|---|---|"
bench_check_ratio "$URL" "$ADMIN"
bench_read_model "${READ_MODEL_KEYS:-1000000}"
