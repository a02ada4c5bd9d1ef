#!/usr/bin/env bash
# Command 2 of the README: the whole test suite, on SQLite and then on PostgreSQL
# (127.0.0.1:5432; installed and started here if it is missing: scripts/postgres.sh).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
source "$here/bootstrap.sh"

PG_URL="${SAFETYNET_TEST_PG_URL:-postgresql://postgres@127.0.0.1:5432/postgres}"

source "$here/postgres.sh"

run_pytest() {
  local label="$1"; shift
  echo "==> test suite on ${label}"
  set +e
  # two workers (the machine's cores); a file's tests stay together on one (some share state)
  "${UV[@]}" run --frozen pytest -n "${SAFETYNET_TEST_WORKERS:-2}" --dist loadfile "$@"
  local rc=$?
  set -e
  if [ "$rc" -eq 5 ]; then
    echo "pytest collected no tests on ${label}: that is a failure, not a pass" >&2
    return 1
  fi
  return "$rc"
}

"${UV[@]}" run --frozen ruff check src tests benchmarks
run_pytest "SQLite" "$@"
[ -n "${SAFETYNET_TEST_PG_URL:-}" ] || ensure_postgres  # a server of one's own is one's own business
SAFETYNET_TEST_DATABASE_URL="$PG_URL" run_pytest "PostgreSQL" "$@"
