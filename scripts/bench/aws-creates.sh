#!/usr/bin/env bash
# AWS create throughput against DynamoDB Local, with its baseline from the same run: raw
# TransactWriteItems of a create's shape (event, feed copy, name claim: three conditional puts) from the
# same number of concurrent clients. Needs the emulators' environment (eval "$(bash scripts/emulators.sh
# start)") and wrk; loopback only, every run bounded by time (and the baseline also by count).
#   CONNECTIONS=8 DURATION=8 bash scripts/bench/aws-creates.sh
# Prints two markdown table rows: creates/s and create p50, apikeyd vs baseline.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"
CONNECTIONS="${CONNECTIONS:-8}"
SECONDS_RUN="${DURATION:-8}"
SECONDS_RUN="${SECONDS_RUN%s}"
[ "${APIKEYD_EMULATORS:-}" = 1 ] || { echo "aws-creates: emulator environment missing" >&2; exit 2; }
if [ -z "${BENCH_NO_BUILD:-}" ]; then # set when the caller has just built both
  cargo build --release -q -p api --bin apikeyd
  cargo build --release -q -p infra --example dynamo_raw_tx
fi
BIN="$ROOT/target/release/apikeyd"
WORK="$(mktemp -d -t apikeyd-awsbench-XXXXXX)"
PID=""
cleanup() { [ -n "$PID" ] && kill "$PID" 2>/dev/null; wait "$PID" 2>/dev/null || true; rm -rf "$WORK"; }
trap cleanup EXIT

read -r raw_tps raw_p50 _ < <("$ROOT/target/release/examples/dynamo_raw_tx" "$CONNECTIONS" "$SECONDS_RUN")

PREFIX="bench$(head -c 6 /dev/urandom | od -An -tx1 | tr -d ' \n')"
APIKEYD_BACKEND=aws APIKEYD_TABLE_PREFIX="$PREFIX" APIKEYD_AWS_CREATE_TABLES=true \
  APIKEYD_AUDIT_LOG_GROUP=none APIKEYD_BIND=127.0.0.1:0 APIKEYD_DATA_DIR="$WORK/data" \
  RUST_LOG=warn APIKEYD_AUTH_FAIL_LIMIT=0 "$BIN" serve >"$WORK/out.log" 2>"$WORK/err.log" &
PID=$!
deadline=$((SECONDS + 60))
until grep -q "listening on" "$WORK/err.log" 2>/dev/null; do
  [ "$SECONDS" -lt "$deadline" ] && kill -0 "$PID" 2>/dev/null || { cat "$WORK/err.log" >&2; exit 1; }
  sleep 0.1
done
URL="$(grep -o 'http://127.0.0.1:[0-9]*' "$WORK/err.log" | tail -1)"
ADMIN="$(grep -oE 'vams_[A-Za-z0-9_-]{40,}' "$WORK/err.log" | head -1)"
out="$(APIKEYD_BENCH_KEY="$ADMIN" wrk -t1 -c"$CONNECTIONS" -d"${SECONDS_RUN}s" --latency -s scripts/bench/create.lua "$URL")"
tps="$(awk '/Requests\/sec/ {printf "%.0f", $2}' <<<"$out")"
p50="$(awk '$1 == "50%" {v=$2; if (v ~ /ms$/) {sub(/ms/,"",v)} else if (v ~ /us$/) {sub(/us/,"",v); v=v/1000} else {sub(/s/,"",v); v=v*1000}; printf "%.2f", v}' <<<"$out")"
non2xx="$(awk '/Non-2xx/ {print $NF}' <<<"$out")"
[ -z "$non2xx" ] || echo "aws-creates: $non2xx non-2xx answers" >&2
ratio="$(awk -v a="$tps" -v b="$raw_tps" 'BEGIN {printf "%.2f", a / b}')"
echo "| AWS creates/s, $CONNECTIONS connections (DynamoDB Local) | $tps | raw TransactWriteItems (3 conditional puts), $CONNECTIONS tasks: $raw_tps | ${ratio}× | ≥ 0.5× |"
echo "| AWS create p50, $CONNECTIONS connections | ${p50} ms | raw transaction p50: ${raw_p50} ms | | |"
