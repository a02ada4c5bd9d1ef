#!/usr/bin/env bash
# Command 2 of the README: the whole test suite, on SQLite and then on PostgreSQL
# (127.0.0.1:5432; started here if it is not running).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/bootstrap.sh"

PG_URL="${SAFETYNET_TEST_PG_URL:-postgresql://postgres@127.0.0.1:5432/postgres}"

ensure_postgres() {
  if pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; then return 0; fi
  echo "==> starting PostgreSQL"
  if command -v pg_ctlcluster >/dev/null 2>&1 && [ -d /etc/postgresql ]; then
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | sort -V | tail -1)" main start || true
  fi
  for _ in $(seq 1 30); do
    pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null && return 0
    sleep 1
  done
  echo "PostgreSQL is not reachable on 127.0.0.1:5432; the suite must run on it too" >&2
  return 1
}

run_pytest() {
  local label="$1"; shift
  echo "==> test suite on ${label}"
  set +e
  "${UV[@]}" run --frozen pytest "$@"
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
ensure_postgres
SAFETYNET_TEST_DATABASE_URL="$PG_URL" run_pytest "PostgreSQL" "$@"
