#!/usr/bin/env bash
# Installs what the browser tests need: Debian's chromium (only when missing) and
# the node packages of tests/browser. Idempotent; safe to run on every CI run.
# playwright-core never downloads a browser: the tests drive /usr/bin/chromium.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

if [ ! -x /usr/bin/chromium ]; then
  echo "install-browser: installing Debian's chromium" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update
  # Fonts so screenshots show text; recommends are skipped to keep the install small.
  apt-get install -y --no-install-recommends chromium fonts-liberation fonts-dejavu-core
fi

cd "$ROOT/tests/browser"
WANT="$(node -p "require('./package.json').devDependencies['playwright-core']")"
HAVE="$(node -p "try { require('./node_modules/playwright-core/package.json').version } catch { '' }")"
if [ "$WANT" = "$HAVE" ]; then
  echo "install-browser: playwright-core $HAVE already installed" >&2
elif [ -f package-lock.json ]; then
  npm ci --no-audit --no-fund
else
  npm install --no-audit --no-fund
fi
echo "install-browser: ok ($(/usr/bin/chromium --version 2>/dev/null || echo 'chromium version unknown'))" >&2
