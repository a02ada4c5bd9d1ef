#!/usr/bin/env bash
# Command 1 of the README: run the platform on the embedded default (SQLite + DuckDB under
# ./data) with a generated demo province, at http://127.0.0.1:8000/.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/bootstrap.sh"
exec "${UV[@]}" run --frozen safetynet demo "$@"
