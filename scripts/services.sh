#!/usr/bin/env bash
# Starts and stops the production stack's servers for the tests: each on loopback, on a free private
# port, in its own temp directory, so nothing depends on (or disturbs) a service on a default port.
# Sourced by scripts/test.sh; by hand:
#   source scripts/services.sh && start_postgres && echo "$PAHLAWAN_TEST_POSTGRES"; ...; stop_services
# Run as a script, it stops or starts the server of $PP_PG_DIR (which start_postgres exports):
#   bash scripts/services.sh postgres-stop | postgres-start
# PostgreSQL's initdb refuses to run as root, so as root the server runs as the `postgres` user.

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

as_postgres() {
  if [ "$(id -u)" -eq 0 ]; then su postgres -s /bin/bash -c "$*"; else bash -c "$*"; fi
}

start_postgres() {
  local bin=/usr/lib/postgresql/15/bin
  PP_PG_DIR=$(mktemp -d /tmp/pahlawan-pg-XXXXXX)
  [ "$(id -u)" -eq 0 ] && chown postgres: "$PP_PG_DIR"
  local port
  port=$(free_port)
  as_postgres "$bin/initdb -D '$PP_PG_DIR/data' -U postgres -A trust -E UTF8 --no-locale >'$PP_PG_DIR/initdb.log' 2>&1" || {
    cat "$PP_PG_DIR/initdb.log" >&2
    return 1
  }
  # In the server's own configuration, so that a restart (postgres_start) keeps them. fsync and
  # synchronous_commit stay on: the tests check durability, not a tuned-down server.
  cat >>"$PP_PG_DIR/data/postgresql.conf" <<CONF
listen_addresses = '127.0.0.1'
port = $port
unix_socket_directories = '$PP_PG_DIR'
max_connections = 300
shared_buffers = 256MB
CONF
  export PP_PG_DIR
  postgres_start || return 1
  export PAHLAWAN_TEST_POSTGRES="postgresql://postgres@127.0.0.1:$port/postgres"
  echo "postgres: $PAHLAWAN_TEST_POSTGRES (data in $PP_PG_DIR)" >&2
}

# Stop and start the server of PP_PG_DIR, keeping its data: how the outage test takes it away.
postgres_stop() {
  as_postgres "/usr/lib/postgresql/15/bin/pg_ctl -D '$PP_PG_DIR/data' -m fast -w stop" >/dev/null
}
postgres_start() {
  as_postgres "/usr/lib/postgresql/15/bin/pg_ctl -D '$PP_PG_DIR/data' -l '$PP_PG_DIR/server.log' -w -t 60 start" \
    >/dev/null || {
    cat "$PP_PG_DIR/server.log" >&2
    return 1
  }
}

stop_postgres() {
  [ -n "${PP_PG_DIR:-}" ] || return 0
  as_postgres "/usr/lib/postgresql/15/bin/pg_ctl -D '$PP_PG_DIR/data' -m immediate -w stop" >/dev/null 2>&1 || true
  rm -rf "$PP_PG_DIR"
  unset PP_PG_DIR PAHLAWAN_TEST_POSTGRES
}

stop_services() {
  stop_postgres
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
  case "${1:-}" in
    postgres-stop) postgres_stop ;;
    postgres-start) postgres_start ;;
    *)
      echo "usage: bash scripts/services.sh postgres-stop|postgres-start (PP_PG_DIR set)" >&2
      exit 2
      ;;
  esac
fi
