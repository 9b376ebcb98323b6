#!/usr/bin/env bash
# Issue 14's figures on DynamoDB Local, for tables of SMALL and LARGE keys (default 10 000 and
# 200 000, seeded by `apikeyd bench seed` on the AWS backend) and a node caching CACHE keys (10 000):
#   - start to ready: exec of `apikeyd serve` → first 200 from /readyz;
#   - cold verifies: CACHE distinct seeded keys verified once each, and the GetItem requests the
#     node sent meanwhile (apikeyd_dynamodb_requests on /metrics: one per key is the goal);
#   - hot verifies: the same keys again (goal: no GetItem, no request of any kind but the feed poll);
#   - resident memory (VmRSS) after both, LARGE vs SMALL: the difference is the goal (≤ 20 MB).
# Needs the emulators' environment (eval "$(bash scripts/emulators.sh start)") and python3; loopback
# only, every pass bounded by its count of keys (scripts/bench/verify_each.py). GetItem counts every
# GetItem the node sent during a pass, background ones included (the views checkpoint, ~1/s); key
# look-ups (apikeyd_key_store_lookups) are the ones verification made.
#   SMALL=10000 LARGE=200000 CACHE=10000 bash scripts/bench/aws-scale.sh
# Prints markdown table rows.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"
SMALL="${SMALL:-10000}"
LARGE="${LARGE:-200000}"
CACHE="${CACHE:-10000}"
# The working set: keys verified in each pass (9/10 of the cache: it fits, with room for the
# node's own entries).
WARM="${WARM:-$((CACHE * 9 / 10))}"
[ "${APIKEYD_EMULATORS:-}" = 1 ] || { echo "aws-scale: emulator environment missing" >&2; exit 2; }
[ -n "${BENCH_NO_BUILD:-}" ] || cargo build --release -q -p api --bin apikeyd
BIN="${APIKEYD_BIN:-$ROOT/target/release/apikeyd}"
WORK="$(mktemp -d -t apikeyd-scale-XXXXXX)"
PID=""
cleanup() { if [ -n "$PID" ]; then kill "$PID" 2>/dev/null || true; wait "$PID" 2>/dev/null || true; fi; rm -rf "$WORK"; }
trap cleanup EXIT

ms() { date +%s%3N; }
# metric NAME_AND_LABELS: its value on the node's /metrics (0 when absent).
metric() { curl -fsS "$URL/metrics" | awk -v m="$1" '$1 == m { printf "%.0f", $2; found = 1 } END { if (!found) print 0 }'; }
getitems() { metric 'apikeyd_dynamodb_requests{operation="GetItem"}'; }
requests() { curl -fsS "$URL/metrics" | awk '/^apikeyd_dynamodb_requests\{/ { s += $2 } END { printf "%.0f", s }'; }
lookups() { metric apikeyd_key_store_lookups; }
verify_each() { # verify the first $1 keys of $2 once each; prints "verified N valid M in S s"
  python3 scripts/bench/verify_each.py "$URL" "$2" "$1"
}

# measure KEYS: seeds a fresh table set with KEYS keys, then starts a node on it and measures.
measure() {
  local keys="$1" prefix="scale$(head -c 5 /dev/urandom | od -An -tx1 | tr -d ' \n')" dir="$WORK/$1"
  mkdir -p "$dir"
  local env=(APIKEYD_BACKEND=aws APIKEYD_TABLE_PREFIX="$prefix" APIKEYD_AWS_CREATE_TABLES=true
    APIKEYD_AUDIT_LOG_GROUP=none RUST_LOG=warn APIKEYD_AUTH_FAIL_LIMIT=0 APIKEYD_CACHE_KEYS="$CACHE")
  local seeded
  seeded="$(env "${env[@]}" APIKEYD_DATA_DIR="$dir/seed" "$BIN" bench seed --keys "$keys" --plaintexts "$dir/keys.txt" | tail -1)"
  echo "aws-scale: $keys keys: $seeded" >&2
  local t0 t1
  t0="$(ms)"
  env "${env[@]}" APIKEYD_BIND=127.0.0.1:0 APIKEYD_DATA_DIR="$dir/node" "$BIN" serve >"$dir/out.log" 2>"$dir/err.log" &
  PID=$!
  local deadline=$((SECONDS + 120))
  URL=""
  until [ -n "$URL" ] && curl -fsS -o /dev/null "$URL/readyz" 2>/dev/null; do
    [ "$SECONDS" -lt "$deadline" ] && kill -0 "$PID" 2>/dev/null || { cat "$dir/err.log" >&2; exit 1; }
    URL="$(grep -o 'http://127.0.0.1:[0-9]*' "$dir/err.log" | tail -1 || true)"
    sleep 0.01
  done
  t1="$(ms)"
  local warm=$((WARM < keys ? WARM : keys)) g0 g1 g2 l0 l1 l2 r1 r2 cold hot rss
  g0="$(getitems)"; l0="$(lookups)"
  cold="$(verify_each "$warm" "$dir/keys.txt")"
  g1="$(getitems)"; l1="$(lookups)"; r1="$(requests)"
  hot="$(verify_each "$warm" "$dir/keys.txt")"
  g2="$(getitems)"; l2="$(lookups)"; r2="$(requests)"
  rss="$(awk '/VmRSS/ {print $2}' "/proc/$PID/status")"
  kill "$PID"; wait "$PID" 2>/dev/null || true; PID=""
  echo "$keys|$((t1 - t0))|$cold|$((l1 - l0)) / $((g1 - g0))|$hot|$((l2 - l1)) / $((g2 - g1))|$((r2 - r1))|$rss"
}

small="$(measure "$SMALL")"
large="$(measure "$LARGE")"
printf '| keys in the tables | start → ready | cold pass (%s distinct keys, cache %s) | key look-ups / GetItem | hot pass (same keys) | key look-ups / GetItem | DynamoDB requests during the hot pass (all) | VmRSS |\n' "$WARM" "$CACHE"
printf '|---|---|---|---|---|---|---|---|\n'
for row in "$small" "$large"; do
  IFS='|' read -r keys start cold g_cold hot g_hot r_hot rss <<<"$row"
  printf '| %s | %s ms | %s | %s | %s | %s | %s | %s kB |\n' "$keys" "$start" "$cold" "$g_cold" "$hot" "$g_hot" "$r_hot" "$rss"
done
rss_small="$(cut -d'|' -f8 <<<"$small")"; rss_large="$(cut -d'|' -f8 <<<"$large")"
echo
echo "VmRSS difference ($LARGE vs $SMALL keys, cache $CACHE): $(( (rss_large - rss_small) / 1024 )) MB (goal ≤ 20 MB)"
