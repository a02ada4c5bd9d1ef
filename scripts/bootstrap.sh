#!/usr/bin/env bash
# Install what safetynet needs on a fresh machine: uv (from PyPI), the locked Python
# environment and the built web UI. Sourced by demo.sh and test.sh; safe to run again.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

if command -v uv >/dev/null 2>&1; then
  UV=(uv)
else
  if ! python3 -m uv --version >/dev/null 2>&1; then
    echo "==> installing uv from PyPI"
    python3 -m pip install --quiet --disable-pip-version-check "uv>=0.5,<1"
  fi
  UV=(python3 -m uv)
fi
export UV_LINK_MODE=copy
echo "==> syncing the Python environment (uv.lock)"
"${UV[@]}" sync --frozen --quiet

# The web UI (web/, Vue + Vite): install the locked npm packages and build web/dist when it is
# missing or older than the sources or the lock file. Without npm the API still runs and the
# pages explain how to build; the browser tests fail with the same advice.
build_web() {
  local web=web stamp=web/dist/.build-stamp log
  if [ -f "$stamp" ] && [ -f web/dist/index.html ] && [ -z "$(find "$web/src" "$web/index.html" "$web/package.json" \
        "$web/package-lock.json" "$web/vite.config.js" -newer "$stamp" -print -quit 2>/dev/null)" ]; then
    return 0
  fi
  if ! command -v npm >/dev/null 2>&1; then
    echo "==> npm not found: the web UI is not built (install Node.js 20+, then re-run this script)" >&2
    return 0
  fi
  echo "==> building the web UI (npm ci && npm run build in web/)"
  log="$(mktemp)"
  if [ ! -f "$web/node_modules/.package-lock.json" ] \
      || [ "$web/package-lock.json" -nt "$web/node_modules/.package-lock.json" ]; then
    if ! (cd "$web" && npm ci --no-audit --no-fund --loglevel=error) >"$log" 2>&1; then
      cat "$log" >&2; rm -f "$log"; echo "npm ci failed in web/" >&2; return 1
    fi
  fi
  if ! (cd "$web" && npm run build) >"$log" 2>&1; then
    cat "$log" >&2; rm -f "$log"; echo "the web UI build failed (npm run build in web/)" >&2; return 1
  fi
  rm -f "$log"
  touch "$stamp"
}
build_web
