# Shared by .ci/setup, .ci/dev and .ci/test. Sourced, not run.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
export PATH="$HOME/.cargo/bin:$PATH"

CARGO_LEPTOS_VERSION="0.3.10"
SCHEMATHESIS_VERSION="4.32.5"
# The wasm-bindgen CLI must equal the wasm-bindgen crate in Cargo.lock exactly (STYLE P1).
WASM_BINDGEN_VERSION="$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/version = |"/, ""); print; exit }' Cargo.lock)"

# The date sweep (.ci/test, issue 11): the instants, the test filters (libtest: any of them) that depend on the date,
# and the instant the whole browser suite runs at a second time.
SWEEP_INSTANTS="2027-01-01T00:30:00Z 2027-01-31T23:30:00Z 2028-02-29T12:00:00Z"
SWEEP_TESTS="demo:: reports:: bills:: bill_pages:: not_charged:: registrations:: collector:: cli::"
SWEEP_BROWSER_INSTANT="2027-01-01T00:30:00Z"

log() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

pg_bin() {
  local d
  for d in ${PG_BIN:-} $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
    [ -x "$d/initdb" ] && { echo "$d"; return 0; }
  done
  return 1
}

# Starts a throwaway PostgreSQL cluster (fsync off: test data only) and exports DATABASE_URL.
# The cluster and its directory are removed by stop_throwaway_postgres.
start_throwaway_postgres() {
  local bin port durability="-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
  # `durable`: PostgreSQL's default durability, for benchmarks that compare commit-heavy work with one big COPY.
  if [ "${1:-}" = durable ]; then durability=""; fi
  bin="$(pg_bin)"
  PG_TMP="$(mktemp -d /tmp/stackbill-pg.XXXXXX)"
  port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
  local run=()
  if [ "$(id -u)" = 0 ]; then chown postgres:postgres "$PG_TMP"; run=(runuser -u postgres --); fi
  (cd / && "${run[@]}" "$bin/initdb" -D "$PG_TMP/data" -U postgres --auth=trust --encoding=UTF8 --locale=C.UTF-8 >/dev/null)
  (cd / && "${run[@]}" "$bin/pg_ctl" start -D "$PG_TMP/data" -w -l "$PG_TMP/server.log" \
    -o "-c listen_addresses=127.0.0.1 -p $port -k $PG_TMP $durability -c max_connections=200 \
        -c log_lock_waits=on -c log_min_duration_statement=10000" >/dev/null)
  PG_RUN=("${run[@]}"); PG_BIN_DIR="$bin"
  export DATABASE_URL="postgres://postgres@127.0.0.1:$port/postgres"
  log "throwaway PostgreSQL on port $port ($PG_TMP)"
}

stop_throwaway_postgres() {
  local status=$?
  if [ -n "${PG_TMP:-}" ] && [ -d "$PG_TMP/data" ]; then
    # After a failure, what PostgreSQL saw: errors, lock waits over a second, statements over 10 seconds.
    if [ "$status" -ne 0 ] && [ -f "$PG_TMP/server.log" ]; then
      echo "== the end of PostgreSQL's log =="
      grep -vE 'duplicate key value violates unique constraint "usage_records_pkey"|^DETAIL:  Key \(|^STATEMENT:  ' \
        "$PG_TMP/server.log" | tail -80 || true
    fi
    (cd / && "${PG_RUN[@]}" "$PG_BIN_DIR/pg_ctl" stop -D "$PG_TMP/data" -m immediate -w >/dev/null 2>&1) || true
    rm -rf "$PG_TMP"
  fi
}

# Points DATABASE_URL at a new, empty database of the throwaway cluster (for a run that needs its own demo data).
sweep_db() {
  psql -q "$DATABASE_URL" -c "drop database if exists $1" -c "create database $1"
  DATABASE_URL="${DATABASE_URL%/*}/$1"
  export DATABASE_URL
}
