#!/usr/bin/env bash
# Install what safetynet needs on a fresh machine: uv (from PyPI) and the locked Python
# environment. Sourced by demo.sh and test.sh; safe to run again.
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
