#!/usr/bin/env bash
# End-to-end test of deploy/nginx/apikeyd.conf: a real nginx (Debian package, installed here when
# missing) on loopback, in front of a tiny upstream that echoes the headers it receives, asking a real
# `apikeyd serve` (fresh data dir) about every request.
#
#   bash scripts/nginx-test.sh      # exit 0: passed, 1: failed, 77: skipped (nginx not installable)
#
# APIKEYD_BIN names the binary to test (default: build target/debug/apikeyd). Everything listens on
# 127.0.0.1, runs in the foreground of this script with a temporary prefix, and is stopped on exit.
# Every wait is bounded.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
MODULE=/usr/lib/nginx/modules/ngx_http_headers_more_filter_module.so
PACKAGES=(nginx libnginx-mod-http-headers-more-filter)

skip() { echo "SKIP: $*"; exit 77; }
fail() { echo "FAIL: $*" >&2; exit 1; }

# --- nginx ----------------------------------------------------------------------------------------
NGINX="$(command -v nginx || true)"
[ -n "$NGINX" ] || [ ! -x /usr/sbin/nginx ] || NGINX=/usr/sbin/nginx
if [ -z "$NGINX" ] || [ ! -f "$MODULE" ]; then
  command -v apt-get >/dev/null || skip "nginx is not installed and apt-get is not available"
  [ "$(id -u)" = 0 ] || skip "nginx is not installed and installing it needs root"
  echo "== installing ${PACKAGES[*]}"
  export DEBIAN_FRONTEND=noninteractive
  timeout 600 apt-get install -y --no-install-recommends "${PACKAGES[@]}" >/dev/null 2>&1 ||
    { timeout 600 apt-get update >/dev/null 2>&1 &&
      timeout 600 apt-get install -y --no-install-recommends "${PACKAGES[@]}" >/dev/null 2>&1; } ||
    skip "apt-get could not install ${PACKAGES[*]}"
  NGINX="$(command -v nginx || echo /usr/sbin/nginx)"
fi
[ -x "$NGINX" ] && [ -f "$MODULE" ] || skip "nginx or its headers-more module is missing after install"
"$NGINX" -V 2>&1 | grep -q -- --with-http_auth_request_module || skip "this nginx lacks auth_request"

# --- apikeyd --------------------------------------------------------------------------------------
if [ -z "${APIKEYD_BIN:-}" ]; then
  (cd "$ROOT" && cargo build --quiet -p api --bin apikeyd)
  APIKEYD_BIN="${CARGO_TARGET_DIR:-$ROOT/target}/debug/apikeyd"
fi
[ -x "$APIKEYD_BIN" ] || fail "no apikeyd binary at $APIKEYD_BIN"

WORK="$(mktemp -d -t apikeyd-nginx-XXXXXX)"
APIKEYD_PID=""
NGINX_PID=""
stop() { # pid: TERM, wait up to 10 s, then KILL
  [ -n "$1" ] || return 0
  kill -TERM "$1" 2>/dev/null || return 0
  for _ in $(seq 100); do kill -0 "$1" 2>/dev/null || return 0; sleep 0.1; done
  kill -KILL "$1" 2>/dev/null || true
}
cleanup() {
  stop "$NGINX_PID"
  stop "$APIKEYD_PID"
  if [ "${KEEP_WORK:-}" = 1 ]; then echo "kept $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

# Refused keys are rate-limited per client; nginx (127.0.0.1) is a trusted proxy, so the client is the
# address nginx saw (the X-Forwarded-For entry it appends). A burst of 8 leaves room for the refusals below before the limit is tested.
env -u APIKEYD_CONFIG -u APIKEYD_PUBLIC_URL -u APIKEYD_ADMIN_ROLES -u APIKEYD_BOOTSTRAP_ADMIN \
  -u APIKEYD_BACKEND -u APIKEYD_MAX_HEADER_BYTES \
  APIKEYD_DATA_DIR="$WORK/data" APIKEYD_BIND=127.0.0.1:0 APIKEYD_TRUSTED_PROXIES=127.0.0.1 \
  APIKEYD_AUTH_FAIL_LIMIT=6 APIKEYD_AUTH_FAIL_BURST=8 RUST_LOG=warn \
  "$APIKEYD_BIN" serve >"$WORK/apikeyd.stdout" 2>"$WORK/apikeyd.stderr" &
APIKEYD_PID=$!
API=""
for _ in $(seq 600); do
  API="$(sed -n 's/^apikeyd listening on \(http:[^ ]*\).*/\1/p' "$WORK/apikeyd.stderr" | head -n1)"
  [ -n "$API" ] && break
  kill -0 "$APIKEYD_PID" 2>/dev/null || { cat "$WORK/apikeyd.stderr" >&2; fail "apikeyd exited early"; }
  sleep 0.1
done
[ -n "$API" ] || fail "apikeyd did not start within 60 s"
ADMIN="$(grep -Eo '^vams_[A-Za-z0-9_-]+' "$WORK/apikeyd.stderr" | head -n1)"
[ -n "$ADMIN" ] || fail "no bootstrap key on apikeyd's stderr"
APIKEYD_PORT="${API##*:}"

# --- nginx on a temporary prefix -----------------------------------------------------------------
NGINX_PORT="$(free_port)"
APP_PORT="$(free_port)"
mkdir -p "$WORK/nginx/logs" "$WORK/nginx/tmp"
sed -e "s|server 127.0.0.1:8080;  # @apikeyd-upstream|server 127.0.0.1:$APIKEYD_PORT;|" \
    -e "s|server 127.0.0.1:9000;  # @app-upstream|server 127.0.0.1:$APP_PORT;|" \
    -e "s|listen 80;  # @listen|listen 127.0.0.1:$NGINX_PORT;|" \
    "$ROOT/deploy/nginx/apikeyd.conf" >"$WORK/nginx/apikeyd.conf"
for marker in "127.0.0.1:$APIKEYD_PORT" "127.0.0.1:$APP_PORT" "listen 127.0.0.1:$NGINX_PORT"; do
  grep -q "$marker" "$WORK/nginx/apikeyd.conf" || fail "deploy/nginx/apikeyd.conf lost its @ markers"
done
USER_LINE=""
[ "$(id -u)" = 0 ] && USER_LINE="user root root;"
cat >"$WORK/nginx/nginx.conf" <<EOF
load_module $MODULE;
$USER_LINE
worker_processes 1;
pid $WORK/nginx/nginx.pid;
error_log $WORK/nginx/logs/error.log warn;
events { worker_connections 64; }
http {
    access_log $WORK/nginx/logs/access.log;
    client_body_temp_path $WORK/nginx/tmp/body;
    proxy_temp_path $WORK/nginx/tmp/proxy;
    fastcgi_temp_path $WORK/nginx/tmp/fastcgi;
    uwsgi_temp_path $WORK/nginx/tmp/uwsgi;
    scgi_temp_path $WORK/nginx/tmp/scgi;
    include $WORK/nginx/apikeyd.conf;

    # The protected service: echoes what nginx passed on.
    server {
        listen 127.0.0.1:$APP_PORT;
        location / {
            default_type application/json;
            return 200 '{"userId":"\$http_x_vams_user_id","roles":"\$http_x_vams_roles","apiKeyId":"\$http_x_vams_api_key_id","other":"\$http_x_vams_other","authorization":"\$http_authorization","uri":"\$request_uri"}';
        }
    }
}
EOF
"$NGINX" -t -q -p "$WORK/nginx" -c "$WORK/nginx/nginx.conf" -e "$WORK/nginx/logs/startup.log" ||
  { cat "$WORK/nginx/logs/startup.log" >&2; fail "nginx rejected the configuration"; }
"$NGINX" -p "$WORK/nginx" -c "$WORK/nginx/nginx.conf" -e "$WORK/nginx/logs/startup.log" \
  -g 'daemon off;' >"$WORK/nginx/logs/stdout" 2>&1 &
NGINX_PID=$!
GATE="http://127.0.0.1:$NGINX_PORT"
for _ in $(seq 100); do
  curl -s -o /dev/null --max-time 1 "$GATE/" && break
  kill -0 "$NGINX_PID" 2>/dev/null || { cat "$WORK/nginx/logs/"* >&2; fail "nginx exited early"; }
  sleep 0.1
done
curl -s -o /dev/null --max-time 1 "$GATE/" || fail "nginx did not accept connections within 10 s"
echo "== nginx $("$NGINX" -v 2>&1 | sed 's|.*/||') on $GATE → app :$APP_PORT, apikeyd $API"

# --- fixtures -------------------------------------------------------------------------------------
api() { # method path [json] → body on stdout; fails on non-2xx
  curl -fsS --max-time 10 -X "$1" -H "Authorization: Bearer $ADMIN" -H 'Content-Type: application/json' \
    ${3:+-d "$3"} "$API$2"
}
field() { python3 -c "import json,sys; print(json.load(sys.stdin)['$1'])"; }
new_key() { # name user [expiresAt] → "id key"
  local body="{\"apiKeyName\":\"$1\",\"userId\":\"$2\",\"description\":\"nginx test\"${3:+,\"expiresAt\":\"$3\"}}"
  api POST /auth/api-keys "$body" | python3 -c 'import json,sys; k=json.load(sys.stdin); print(k["apiKeyId"], k["apiKey"])'
}
api POST /roles '{"roleName":"reader","description":"reads"}' >/dev/null
api POST /roles '{"roleName":"writer","description":"writes"}' >/dev/null
api POST /user-roles '{"userId":"gateway-user","roleName":["reader","writer"]}' >/dev/null
api POST /user-roles '{"userId":"roleless-user","roleName":["reader"]}' >/dev/null
read -r VALID_ID VALID <<<"$(new_key valid gateway-user)"
read -r DELETED_ID DELETED <<<"$(new_key deleted gateway-user)"
api DELETE "/auth/api-keys/$DELETED_ID" >/dev/null
read -r DISABLED_ID DISABLED <<<"$(new_key deactivated gateway-user)"
api PUT "/auth/api-keys/$DISABLED_ID" '{"isActive":"false"}' >/dev/null
read -r _ ROLELESS <<<"$(new_key roleless roleless-user)"
api DELETE /user-roles '{"userId":"roleless-user"}' >/dev/null
EXPIRES_AT="$(date -u -d '+2 seconds' +%Y-%m-%dT%H:%M:%SZ)"
read -r _ EXPIRED <<<"$(new_key expiring gateway-user "$EXPIRES_AT")"

# --- assertions -----------------------------------------------------------------------------------
PASSED=0
through() { # expected-status description curl-args… ; leaves the body in $WORK/body, headers in $WORK/headers
  local expected="$1" what="$2"; shift 2
  local status
  status="$(curl -s --max-time 10 -o "$WORK/body" -D "$WORK/headers" -w '%{http_code}' "$@")"
  [ "$status" = "$expected" ] ||
    fail "$what: expected $expected, got $status: $(cat "$WORK/body")"
  PASSED=$((PASSED + 1))
  echo "ok - $what → $status"
}
json_is() { # field expected description
  local got
  got="$(field "$1" <"$WORK/body")"
  [ "$got" = "$2" ] || fail "$3: $1 is '$got', expected '$2' (body $(cat "$WORK/body"))"
}
denied_json() { # description
  grep -qi '^content-type: application/json' "$WORK/headers" || fail "$1: denial is not JSON"
  json_is message Unauthorized "$1"
}

through 200 "valid key reaches the upstream" "$GATE/reports/42?x=1" \
  -H "Authorization: Bearer $VALID" -H "X-Vams-User-Id: mallory" -H "X-Vams-Roles: admin" \
  -H "X-Vams-Other: forged"
json_is userId gateway-user "valid key"
json_is roles reader,writer "valid key"
json_is apiKeyId "$VALID_ID" "valid key"
json_is other "" "client-sent X-Vams-Other"
json_is authorization "" "Authorization forwarded upstream"
json_is uri "/reports/42?x=1" "upstream URI"
through 200 "bare key (no Bearer scheme)" "$GATE/" -H "Authorization: $VALID"
json_is userId gateway-user "bare key"

through 401 "no key" "$GATE/reports" -H "X-Vams-User-Id: mallory"
denied_json "no key"
through 401 "deleted key" "$GATE/" -H "Authorization: Bearer $DELETED"
denied_json "deleted key"
through 401 "deactivated key" "$GATE/" -H "Authorization: Bearer $DISABLED"
denied_json "deactivated key"
through 401 "key of a user without roles" "$GATE/" -H "Authorization: Bearer $ROLELESS"
for _ in $(seq 50); do [ "$(date -u +%s)" -gt "$(date -u -d "$EXPIRES_AT" +%s)" ] && break; sleep 0.1; done
through 401 "expired key" "$GATE/" -H "Authorization: Bearer $EXPIRED"
denied_json "expired key"
through 401 "unknown key" "$GATE/" -H "Authorization: Bearer vams_$(printf 'notakey%.0s' 1 2 3 4 5 6)"

# Rate limiting is per client address as nginx saw it: 127.0.0.2 guesses until limited, each guess
# claiming another address in X-Forwarded-For and X-Real-IP (nginx appends the real one, apikeyd takes
# that); then its refused keys get 429 while a valid key from there still gets 200, and 127.0.0.3's
# refused keys are still plain 401s.
limited=""
for i in $(seq 20); do
  status="$(curl -s --max-time 10 --interface 127.0.0.2 -o "$WORK/body" -D "$WORK/headers" -w '%{http_code}' \
    "$GATE/" -H "Authorization: Bearer vams_guess$i" -H "X-Forwarded-For: 198.51.100.$i" -H "X-Real-IP: 198.51.100.$i")"
  if [ "$status" = 429 ]; then limited=$i; break; fi
  [ "$status" = 401 ] || fail "guess $i: expected 401 or 429, got $status"
done
[ -n "$limited" ] || fail "20 refused keys from one address (spoofing its forwarding headers) were never rate-limited"
echo "ok - rate-limited after $((limited - 1)) refused keys despite spoofed forwarding headers"
through 429 "refused key from the limited address" --interface 127.0.0.2 "$GATE/" -H "Authorization: Bearer vams_guessagain"
grep -Eqi '^retry-after: [0-9]+' "$WORK/headers" || fail "429 without an integer Retry-After"
grep -qi '^content-type: application/json' "$WORK/headers" || fail "429 is not JSON"
through 200 "valid key from the limited address" --interface 127.0.0.2 "$GATE/" -H "Authorization: Bearer $VALID"
through 401 "refused key from another address" --interface 127.0.0.3 "$GATE/" -H "Authorization: Bearer vams_guessother"

stop "$APIKEYD_PID"; APIKEYD_PID=""
through 503 "apikeyd down" "$GATE/" -H "Authorization: Bearer $VALID"

echo "nginx e2e: $PASSED checks passed"
