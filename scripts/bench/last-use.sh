#!/usr/bin/env bash
# GET /auth/check with the key's last use recorded (APIKEYD_LAST_USED_FLUSH_SECONDS=60, the
# default) against the same server build with recording off (=0), alternating on one data dir,
# ROUNDS rounds each, wrk -t1 -cCONNECTIONS -dDURATION on loopback; prints each run and the median
# ratio (goal ≥ 0.95×: recording must not slow verification down). Every wait has a deadline.
#   bash scripts/bench/last-use.sh            # builds the release binary first
#   BIN=target/release/apikeyd ROUNDS=3 DURATION=6s bash scripts/bench/last-use.sh
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"
ROUNDS="${ROUNDS:-3}"
DURATION="${DURATION:-6s}"
CONNECTIONS="${CONNECTIONS:-64}"
if [ -z "${BIN:-}" ]; then
  cargo build --release -p api --bin apikeyd
  BIN="${CARGO_TARGET_DIR:-$ROOT/target}/release/apikeyd"
fi
WORK="$(mktemp -d -t apikeyd-last-use-XXXXXX)"
PID=""
stop() { if [ -n "$PID" ]; then kill "$PID" 2>/dev/null || true; wait "$PID" 2>/dev/null || true; PID=""; fi; }
trap 'stop; rm -rf "$WORK"' EXIT
KEY=""

# start FLUSH_SECONDS: a server on $WORK/data, waited for (deadline 60 s); sets PID and URL.
start() {
  : >"$WORK/err"
  APIKEYD_BIND=127.0.0.1:0 APIKEYD_DATA_DIR="$WORK/data" RUST_LOG=warn APIKEYD_AUTH_FAIL_LIMIT=0 \
    APIKEYD_LAST_USED_FLUSH_SECONDS="$1" "$BIN" serve >"$WORK/out" 2>"$WORK/err" &
  PID=$!
  URL=""
  local deadline=$((SECONDS + 60))
  until [ -n "$URL" ] && curl -fsS -o /dev/null --max-time 2 "$URL/readyz"; do
    kill -0 "$PID" 2>/dev/null && [ "$SECONDS" -lt "$deadline" ] || { cat "$WORK/err" >&2; exit 1; }
    URL="$(grep -o 'http://127.0.0.1:[0-9]*' "$WORK/err" | tail -1 || true)"
    sleep 0.05
  done
  [ -n "$KEY" ] || KEY="$(grep -oE 'vams_[A-Za-z0-9_-]{40,}' "$WORK/err" | head -1)"
}

rate() {
  wrk -t1 -c"$CONNECTIONS" -d"$DURATION" -H "Authorization: Bearer $KEY" "$URL/auth/check" \
    | awk '/Requests\/sec/ {printf "%.0f", $2}'
}

off=() on=()
for round in $(seq 1 "$ROUNDS"); do
  start 0; off+=("$(rate)"); stop
  start 60; on+=("$(rate)"); stop
  echo "round $round: recording off ${off[-1]} req/s, on ${on[-1]} req/s" >&2
done
median() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
m_off="$(median "${off[@]}")"
m_on="$(median "${on[@]}")"
ratio="$(awk -v a="$m_on" -v b="$m_off" 'BEGIN { printf "%.2f×", a / b }')"
printf '| %s | %s | %s | %s | %s |\n' \
  "GET /auth/check, last use recorded (median req/s of $ROUNDS, wrk -t1 -c$CONNECTIONS)" \
  "$m_on" "$m_off with recording off" "$ratio" "≥ 0.95×"
