#!/usr/bin/env bash
# Sourced by test.sh: make sure a PostgreSQL server answers on 127.0.0.1:5432 for the suite's
# second half. When none is installed and we may install system packages (root), install Debian's
# `postgresql`, let the suite's user connect from 127.0.0.1 without a password (a throwaway test
# server: the suite creates and drops its own databases as `postgres`), and start it. An existing
# server's configuration is never changed.

_pg_ready() { pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; }

_pg_install() {
  if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null 2>&1; then
    echo "PostgreSQL is not installed: install it (Debian: apt-get install postgresql) and let" \
         "postgres connect from 127.0.0.1, or set SAFETYNET_TEST_PG_URL" >&2
    return 1
  fi
  echo "==> installing PostgreSQL (Debian's postgresql) for the test suite"
  export DEBIAN_FRONTEND=noninteractive
  if ! apt-get install -y -q postgresql >/tmp/safetynet-pg-apt.log 2>&1; then
    apt-get update -q >>/tmp/safetynet-pg-apt.log 2>&1 \
      && apt-get install -y -q postgresql >>/tmp/safetynet-pg-apt.log 2>&1 \
      || { cat /tmp/safetynet-pg-apt.log >&2; return 1; }
  fi
  local hba
  hba="$(ls /etc/postgresql/*/main/pg_hba.conf | sort -V | tail -1)"
  # first matching line wins: loopback connections of the fresh test server need no password
  sed -i '1i host all all 127.0.0.1/32 trust' "$hba"
}

ensure_postgres() {
  _pg_ready && return 0
  if ! command -v pg_ctlcluster >/dev/null 2>&1; then
    _pg_install || return 1
  fi
  echo "==> starting PostgreSQL"
  local version
  version="$(ls /etc/postgresql | sort -V | tail -1)"
  pg_ctlcluster --skip-systemctl-redirect "$version" main restart >/dev/null 2>&1 \
    || pg_ctlcluster --skip-systemctl-redirect "$version" main start || true
  for _ in $(seq 1 30); do
    _pg_ready && return 0
    sleep 1
  done
  echo "PostgreSQL is not reachable on 127.0.0.1:5432; the suite must run on it too" >&2
  return 1
}
