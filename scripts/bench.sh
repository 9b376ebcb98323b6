#!/usr/bin/env bash
# The one benchmark entry point: a release apikeyd on the embedded backend, loopback only, every run
# bounded (wrk -d, counts), and ONE table at the end:
#   figure | apikeyd | baseline (same run) | ratio | goal
# Each row is one function below (`row_*`), listed in ROWS; a new figure is a new function and a new
# entry. Results and commands go to docs/BENCHMARKS.md.
#   bash scripts/bench.sh                        # every row
#   ROWS="creates replay" KEYS=200000 bash scripts/bench.sh
#   eval "$(bash scripts/emulators.sh start)"; bash scripts/bench.sh   # adds the AWS rows
# Settings: DURATION (wrk, default 10s), CONNECTIONS (verify rows, 64), KEYS (seeded keys for the
# replay row, default 1 000 000), BASELINE_SECONDS (raw SQLite commits, default 5).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
DURATION="${DURATION:-10s}"
CONNECTIONS="${CONNECTIONS:-64}"
KEYS="${KEYS:-1000000}"
BASELINE_SECONDS="${BASELINE_SECONDS:-5}"
ROWS="${ROWS:-creates replay check key_settings last_use read_model}"
[ "${APIKEYD_EMULATORS:-}" = 1 ] && ROWS="$ROWS aws_creates"

command -v wrk >/dev/null || { apt-get update >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y wrk >/dev/null; }
cargo build --release -p api --bin apikeyd
BIN="${CARGO_TARGET_DIR:-$ROOT/target}/release/apikeyd"
WORK="$(mktemp -d -t apikeyd-bench-XXXXXX)"
PID=""
TABLE=()
stop_server() { if [ -n "$PID" ]; then kill "$PID" 2>/dev/null || true; wait "$PID" 2>/dev/null || true; PID=""; fi; }
cleanup() { stop_server; rm -rf "$WORK"; }
trap cleanup EXIT

# start_server DIR: a server on DIR, waited for until it listens (bounded); sets PID, URL, ADMIN.
start_server() {
  local dir="$1"
  APIKEYD_BIND=127.0.0.1:0 APIKEYD_DATA_DIR="$dir" RUST_LOG=warn APIKEYD_AUTH_FAIL_LIMIT=0 \
    "$BIN" serve >"$dir.out" 2>"$dir.err" &
  PID=$!
  for _ in $(seq 1 600); do grep -q "listening on" "$dir.err" 2>/dev/null && break; sleep 0.1; done
  URL="$(grep -o 'http://127.0.0.1:[0-9]*' "$dir.err" | tail -1)"
  ADMIN="$(grep -oE 'vams_[A-Za-z0-9_-]{40,}' "$dir.err" | head -1)"
  [ -n "$URL" ] && [ -n "$ADMIN" ] || { cat "$dir.err"; exit 1; }
}

# Requests/s of a wrk run (its arguments), the full output kept in $WORK/wrk.log.
wrk_rate() { wrk "$@" | tee -a "$WORK/wrk.log" | awk '/Requests\/sec/ {printf "%.0f", $2}'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f×", a / b; else print "-" }'; }
add_row() { TABLE+=("$1|$2|$3|$4|$5"); }

# Embedded creates with 16 connections vs raw single-writer SQLite commits on the same disk.
row_creates() {
  local dir="$WORK/creates" raw creates
  mkdir -p "$dir"
  raw="$(APIKEYD_DATA_DIR="$dir" "$BIN" bench sqlite-commits --seconds "$BASELINE_SECONDS" | awk '{print $1}')"
  start_server "$dir"
  creates="$(APIKEYD_BENCH_KEY="$ADMIN" wrk_rate -t2 -c16 -d"$DURATION" --latency -s scripts/bench/create.lua "$URL")"
  stop_server
  add_row "embedded creates/s (POST /auth/api-keys, wrk -c16)" "$creates" "$raw raw SQLite commits/s" \
    "$(ratio "$creates" "$raw")" "≥ 0.5×"
}

# events replay at KEYS keys (seeded through the bulk path) vs the fold alone in the same process.
row_replay() {
  local dir="$WORK/replay" out events seconds folding
  mkdir -p "$dir"
  APIKEYD_DATA_DIR="$dir" RUST_LOG=warn "$BIN" bench seed --keys "$KEYS" >"$WORK/seed.log"
  out="$(APIKEYD_DATA_DIR="$dir" RUST_LOG=warn "$BIN" events replay --projection views | tail -1)"
  echo "$out" >>"$WORK/replay.log"
  # "replayed N events in Ts (R events/s; folding Fs, writing Ws)"
  events="$(echo "$out" | awk '{print $2}')"
  seconds="$(echo "$out" | awk '{sub("s","",$5); print $5}')"
  folding="$(echo "$out" | sed -E 's/.*folding ([0-9.]+)s.*/\1/')"
  local rate fold
  rate="$(awk -v n="$events" -v s="$seconds" 'BEGIN { printf "%.0f", n / s }')"
  fold="$(awk -v n="$events" -v s="$folding" 'BEGIN { printf "%.0f", n / s }')"
  add_row "events replay --projection views, $events events (events/s)" "$rate" "$fold fold alone" \
    "$(ratio "$rate" "$fold")" "≥ 100 000/s"
  rm -rf "$dir"
}

# GET /auth/check with a valid key vs GET /api/version of the same server.
row_check() {
  local dir="$WORK/check" check version
  mkdir -p "$dir"
  start_server "$dir"
  version="$(wrk_rate -t1 -c"$CONNECTIONS" -d"$DURATION" "$URL/api/version")"
  check="$(wrk_rate -t1 -c"$CONNECTIONS" -d"$DURATION" -H "Authorization: Bearer $ADMIN" "$URL/auth/check")"
  stop_server
  add_row "GET /auth/check, valid key (req/s, wrk -t1 -c$CONNECTIONS)" "$check" "$version /api/version" \
    "$(ratio "$check" "$version")" "≥ 0.9×"
}

# POST /auth/verify with a key that has all four settings (role scope, rate limit, allowlist, meta)
# vs a key with none, same server, same run; runs alternate (plain, set, plain, set) so drift on a
# shared machine falls on both. The limit is high enough never to refuse: every request pays the
# full check, allowlist and counter included.
row_key_settings() {
  local dir="$WORK/settings" plain set body p1 s1 p2 s2
  mkdir -p "$dir"
  start_server "$dir"
  body='{"apiKeyName":"bench-plain","userId":"admin","description":"bench"}'
  plain="$(curl -sf -X POST "$URL/auth/api-keys" -H "Authorization: Bearer $ADMIN" -d "$body" | grep -oE 'vams_[A-Za-z0-9_-]{40,}')"
  body='{"apiKeyName":"bench-set","userId":"admin","description":"bench","roles":["admin"],"rateLimit":{"limit":1000000,"periodSeconds":1},"allowedCidrs":["127.0.0.0/8","10.0.0.0/8"],"meta":{"team":"bench","tier":"gold"}}'
  set="$(curl -sf -X POST "$URL/auth/api-keys" -H "Authorization: Bearer $ADMIN" -d "$body" | grep -oE 'vams_[A-Za-z0-9_-]{40,}')"
  [ -n "$plain" ] && [ -n "$set" ] || { echo "key_settings: could not create the keys" >&2; exit 1; }
  p1="$(APIKEYD_BENCH_KEY="$plain" wrk_rate -t1 -c"$CONNECTIONS" -d"$DURATION" -s scripts/bench/verify.lua "$URL/auth/verify")"
  s1="$(APIKEYD_BENCH_KEY="$set" wrk_rate -t1 -c"$CONNECTIONS" -d"$DURATION" -s scripts/bench/verify.lua "$URL/auth/verify")"
  p2="$(APIKEYD_BENCH_KEY="$plain" wrk_rate -t1 -c"$CONNECTIONS" -d"$DURATION" -s scripts/bench/verify.lua "$URL/auth/verify")"
  s2="$(APIKEYD_BENCH_KEY="$set" wrk_rate -t1 -c"$CONNECTIONS" -d"$DURATION" -s scripts/bench/verify.lua "$URL/auth/verify")"
  curl -sf -X POST "$URL/auth/verify" -d "{\"apiKey\":\"$set\"}" | grep -q '"code":"VALID"' \
    || { echo "key_settings: the key with settings did not stay valid" >&2; exit 1; }
  stop_server
  add_row "POST /auth/verify, key with roles+rateLimit+allowedCidrs+meta (req/s, wrk -t1 -c$CONNECTIONS)" \
    "$(( (s1 + s2) / 2 ))" "$(( (p1 + p2) / 2 )) same key without settings" "$(ratio $((s1 + s2)) $((p1 + p2)))" "≥ 0.9×"
}

# Resident bytes per key and start-to-ready at READ_MODEL_KEYS keys (scripts/bench/readside.sh: its
# own servers; prints its rows as it goes).
row_read_model() {
  # shellcheck source=scripts/bench/readside.sh
  source "$ROOT/scripts/bench/readside.sh"
  bench_read_model "${READ_MODEL_KEYS:-1000000}"
}

# /auth/check with last use recorded vs recording off, same binary, same run (scripts/bench/last-use.sh).
row_last_use() {
  local line
  line="$(BIN="$BIN" DURATION="$DURATION" CONNECTIONS="$CONNECTIONS" bash "$ROOT/scripts/bench/last-use.sh" | tail -1)"
  IFS='|' read -r _ figure apikeyd baseline ratio goal _ <<<"$line"
  add_row "$(echo $figure)" "$(echo $apikeyd)" "$(echo $baseline)" "$(echo $ratio)" "$(echo $goal)"
}

# AWS creates vs raw TransactWriteItems on DynamoDB Local (needs the emulators' environment).
row_aws_creates() {
  CONNECTIONS=8 bash "$ROOT/scripts/bench/aws-creates.sh"
}

for row in $ROWS; do
  echo "== $row" >&2
  "row_$row"
done
echo
printf '| %s | %s | %s | %s | %s |\n' figure apikeyd "baseline (same run)" ratio goal
printf '|---|---|---|---|---|\n'
for line in "${TABLE[@]}"; do
  IFS='|' read -r figure value baseline r goal <<<"$line"
  printf '| %s | %s | %s | %s | %s |\n' "$figure" "$value" "$baseline" "$r" "$goal"
done
