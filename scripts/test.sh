#!/usr/bin/env bash
# The whole suite on SQLite, then on PostgreSQL; fails if either fails (and if no test ran:
# pytest's exit code 5 is non-zero). With TEST_DATABASE_URL set, runs on that database only.
# Extra arguments go to pytest, e.g. `scripts/test.sh -k landing`.
set -uo pipefail
cd "$(dirname "$0")/.."

PYTEST=(.venv/bin/python -m pytest "$@")

if [ -n "${TEST_DATABASE_URL:-}" ]; then
  "${PYTEST[@]}"
  exit $?
fi

PG_HOST=127.0.0.1
PG_PORT=${PG_PORT:-5432}
throwaway_dir=""

pg_ready() { pg_isready -q -h "$PG_HOST" -p "$1" -t 3 >/dev/null 2>&1; }

as_postgres() {
  if [ "$(id -u)" = "0" ]; then su postgres -s /bin/bash -c "$*"; else bash -c "$*"; fi
}

stop_throwaway() {
  if [ -n "$throwaway_dir" ]; then
    as_postgres "$pg_bin/pg_ctl -D $throwaway_dir/data -m fast -w stop" >/dev/null 2>&1 || true
    rm -rf "$throwaway_dir"
  fi
}
trap stop_throwaway EXIT

# PostgreSQL: the machine's server on 127.0.0.1:5432; else start the Debian cluster; else a
# throw-away cluster of our own on port 15432. The suite creates (and drops) a fresh database.
ensure_postgres() {
  if pg_ready "$PG_PORT"; then
    pg_url="postgresql+psycopg://postgres@$PG_HOST:$PG_PORT/postgres"
    return 0
  fi
  local version
  version=$(ls /etc/postgresql 2>/dev/null | sort -V | tail -1)
  if [ -n "$version" ] && [ -d "/etc/postgresql/$version/main" ]; then
    echo "Starting the Debian PostgreSQL $version cluster" >&2
    pg_ctlcluster --skip-systemctl-redirect "$version" main start >&2 || true
    for _ in $(seq 1 30); do
      if pg_ready "$PG_PORT"; then
        pg_url="postgresql+psycopg://postgres@$PG_HOST:$PG_PORT/postgres"
        return 0
      fi
      sleep 1
    done
  fi
  pg_bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
  [ -n "$pg_bin" ] || { echo "No PostgreSQL binaries found" >&2; return 1; }
  throwaway_dir=$(mktemp -d /tmp/portal-pg.XXXXXX)
  [ "$(id -u)" = "0" ] && chown postgres "$throwaway_dir"
  echo "Starting a throw-away PostgreSQL cluster in $throwaway_dir" >&2
  as_postgres "$pg_bin/initdb -D $throwaway_dir/data -A trust -U postgres -E UTF8 --locale=C.UTF-8" >/dev/null
  as_postgres "$pg_bin/pg_ctl -D $throwaway_dir/data -o \"-p 15432 -k $throwaway_dir -c listen_addresses=127.0.0.1\" -l $throwaway_dir/log -w start" >/dev/null
  pg_url="postgresql+psycopg://postgres@$PG_HOST:15432/postgres"
}

echo "=== Test suite on SQLite ==="
TEST_DATABASE_URL="sqlite" "${PYTEST[@]}"
sqlite_rc=$?

pg_rc=1
pg_url=""
pg_bin=""
if ensure_postgres; then
  echo "=== Test suite on PostgreSQL ==="
  TEST_DATABASE_URL="$pg_url" "${PYTEST[@]}"
  pg_rc=$?
else
  echo "PostgreSQL could not be started" >&2
fi

echo "SQLite: exit $sqlite_rc; PostgreSQL: exit $pg_rc"
[ "$sqlite_rc" -eq 0 ] && [ "$pg_rc" -eq 0 ]
