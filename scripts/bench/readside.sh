# Read-side rows of scripts/bench.sh, as functions it sources (also runnable alone:
# `bash scripts/bench/readside.sh [N]`). Every server runs on loopback, every wait has a deadline,
# every load run is bounded by wrk -d.
#
#   bench_read_model N       resident bytes per key (server RSS at N keys minus RSS at 0, / N) and
#                            start-to-ready (exec → /readyz 200) at N keys; baseline: a naive
#                            HashMap<[u8; 32], small entry> (235 B/key, issue 10) and the 2 s goal.
#   bench_check_ratio URL K  GET /auth/check with key K against GET /api/version of the same server,
#                            wrk -t1 -c64, same run; goal ≥ 0.9×.
#
# Each prints rows with `row FIGURE APIKEYD BASELINE RATIO GOAL` (bench.sh's table when it defines
# `row`, a plain line otherwise). Needs BIN (release apikeyd), WORK (scratch dir) and wrk.

if ! declare -F row >/dev/null; then
  row() { printf '| %s | %s | %s | %s | %s |\n' "$@"; }
fi

READSIDE_DURATION="${DURATION:-8s}"

readside_rss_kb() { awk '/VmRSS/ {print $2}' "/proc/$1/status"; }

# Starts apikeyd on DATA (fresh port), waits for /readyz 200 (deadline 120 s); sets RS_PID, RS_URL,
# RS_READY_MS (exec to ready) and RS_KEY (the bootstrap key, first start only).
readside_start() {
  local data="$1" log="$1.err" started deadline
  started="$(date +%s%N)"
  APIKEYD_BIND=127.0.0.1:0 APIKEYD_DATA_DIR="$data" RUST_LOG=warn APIKEYD_AUTH_FAIL_LIMIT=0 \
    "$BIN" serve >"$data.out" 2>"$log" &
  RS_PID=$!
  RS_URL=""
  deadline=$((SECONDS + 120))
  until [ -n "$RS_URL" ] && curl -fsS -o /dev/null --max-time 2 "$RS_URL/readyz"; do
    kill -0 "$RS_PID" 2>/dev/null && [ "$SECONDS" -lt "$deadline" ] || { cat "$log" >&2; return 1; }
    RS_URL="$(grep -o 'http://127.0.0.1:[0-9]*' "$log" | tail -1 || true)"
    sleep 0.02
  done
  RS_READY_MS=$(( ($(date +%s%N) - started) / 1000000 ))
  RS_KEY="$(grep -oE 'vams_[A-Za-z0-9_-]{40,}' "$log" | head -1 || true)"
}

readside_stop() {
  [ -n "${RS_PID:-}" ] || return 0
  kill "$RS_PID" 2>/dev/null || true
  wait "$RS_PID" 2>/dev/null || true
  RS_PID=""
}

bench_read_model() {
  local keys="${1:-1000000}" data="$WORK/readside-data" rss0 rss1 ready0 per_key
  cargo build --release -p infra --example seed_views >&2
  mkdir -p "$data"
  readside_start "$data"
  ready0="$RS_READY_MS"
  rss0="$(readside_rss_kb "$RS_PID")"
  readside_stop
  "${CARGO_TARGET_DIR:-$ROOT/target}/release/examples/seed_views" "$data/apikeyd.db" "$keys" >&2
  readside_start "$data"
  rss1="$(readside_rss_kb "$RS_PID")"
  readside_stop
  per_key=$(( (rss1 - rss0) * 1024 / keys ))
  row "resident bytes per key at $keys keys (server RSS delta)" "$per_key B" "235 B (naive map)" \
    "$(awk -v a="$per_key" 'BEGIN { printf "%.2f×", a / 235 }')" "≤ 200 B"
  row "start to ready at $keys keys" "$RS_READY_MS ms" "$ready0 ms (0 keys)" \
    "$(awk -v a="$RS_READY_MS" 'BEGIN { printf "%.2f× of goal", a / 2000 }')" "≤ 2000 ms"
}

# Requests/s of one wrk run.
readside_rps() { wrk -t1 -c64 -d"$READSIDE_DURATION" "$@" | awk '/Requests\/sec/ {print int($2)}'; }

bench_check_ratio() {
  local url="$1" key="$2" version check
  version="$(readside_rps "$url/api/version")"
  check="$(readside_rps -H "Authorization: Bearer $key" "$url/auth/check")"
  row "GET /auth/check, valid key (req/s, wrk -t1 -c64)" "$check" "$version (GET /api/version)" \
    "$(awk -v a="$check" -v b="$version" 'BEGIN { printf "%.2f×", a / b }')" "≥ 0.9×"
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
  set -euo pipefail
  ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
  cd "$ROOT"
  cargo build --release -p api --bin apikeyd >&2
  BIN="${CARGO_TARGET_DIR:-$ROOT/target}/release/apikeyd"
  WORK="$(mktemp -d -t apikeyd-readside-XXXXXX)"
  trap 'readside_stop; rm -rf "$WORK"' EXIT
  echo "| figure | apikeyd | baseline | ratio | goal |"
  echo "|---|---|---|---|---|"
  mkdir -p "$WORK/check"
  readside_start "$WORK/check"
  bench_check_ratio "$RS_URL" "$RS_KEY"
  readside_stop
  bench_read_model "${1:-1000000}"
fi
