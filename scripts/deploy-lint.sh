#!/usr/bin/env bash
# Lints what deploy/ ships: the CloudFormation template with cfn-lint and the Prometheus alerting
# rules with promtool. Both tools are installed on first use, the way scripts/emulators.sh installs
# moto: cfn-lint from PyPI into the git-ignored .tools/cfn-lint venv (pinned), promtool from Debian's
# `prometheus` package. When promtool cannot be installed the rules are still checked structurally by
# the Rust test `tests --test ops deploy` (run by test.sh), and this script says so.
#
# Usage: bash scripts/deploy-lint.sh [install]
#   install  only installs the tools.
# Exit status 0 when every check passed.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TOOLS="$ROOT/.tools"
VENV="$TOOLS/cfn-lint"
CFN_LINT_VERSION="1.58.0"
INSTALL_TIMEOUT_S="${DEPLOY_LINT_INSTALL_TIMEOUT_S:-600}"
TEMPLATE="$ROOT/deploy/cloudformation.yaml"
RULES="$ROOT/deploy/prometheus/alerts.yaml"

log() { echo "deploy-lint: $*" >&2; }
die() { log "error: $*"; exit 1; }

cfn_lint_installed_version() {
  [ -x "$VENV/bin/cfn-lint" ] || return 0
  timeout 60 "$VENV/bin/python" -c 'import importlib.metadata as m; print(m.version("cfn-lint"))' 2>/dev/null || true
}

install_cfn_lint() {
  if [ "$(cfn_lint_installed_version)" = "$CFN_LINT_VERSION" ]; then
    return 0
  fi
  command -v python3 >/dev/null 2>&1 || die "python3 not found (needed for cfn-lint)"
  mkdir -p "$TOOLS"
  # A venv left half-made by an interrupted install has no pip: start it again from scratch.
  if ! timeout 60 "$VENV/bin/python" -m pip --version >/dev/null 2>&1; then
    log "creating venv $VENV"
    rm -rf "$VENV"
    timeout 300 python3 -m venv "$VENV" 1>&2 || die "python3 -m venv $VENV failed"
  fi
  log "installing cfn-lint==$CFN_LINT_VERSION from PyPI into $VENV"
  timeout "$INSTALL_TIMEOUT_S" "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check \
    --no-input "cfn-lint==$CFN_LINT_VERSION" 1>&2 || die "pip install cfn-lint==$CFN_LINT_VERSION failed"
  [ "$(cfn_lint_installed_version)" = "$CFN_LINT_VERSION" ] || die "cfn-lint $CFN_LINT_VERSION not importable"
}

# promtool ships in Debian's prometheus package; installing it needs root and apt. Returns 1 (with
# the reason logged) when it cannot be had.
install_promtool() {
  command -v promtool >/dev/null 2>&1 && return 0
  if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
    log "promtool not installed and apt-get is not usable here"
    return 1
  fi
  log "installing promtool (Debian package prometheus)"
  if ! timeout "$INSTALL_TIMEOUT_S" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
      --no-install-recommends prometheus >/dev/null 2>&1; then
    timeout "$INSTALL_TIMEOUT_S" apt-get update -q >/dev/null 2>&1 || true
    timeout "$INSTALL_TIMEOUT_S" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
      --no-install-recommends prometheus >/dev/null 2>&1 || { log "apt-get install prometheus failed"; return 1; }
  fi
  command -v promtool >/dev/null 2>&1
}

install_cfn_lint
promtool_ok=0
install_promtool || promtool_ok=1
[ "${1:-}" = install ] && exit 0

status=0
log "cfn-lint $CFN_LINT_VERSION: $TEMPLATE"
"$VENV/bin/cfn-lint" "$TEMPLATE" || status=1
if [ "$promtool_ok" = 0 ]; then
  log "promtool: $RULES"
  promtool check rules "$RULES" || status=1
else
  log "promtool unavailable: $RULES is checked only structurally (tests --test ops deploy)"
fi
exit "$status"
