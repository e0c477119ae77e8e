#!/usr/bin/env bash
# Where PostgreSQL spends a herd: one herd on the PostgreSQL store with pg_stat_statements loaded,
# then the statements by total execution time (calls, rows, ms). The server's own view, beside the
# generator's figures; time outside execution (parse, bind, locks, commit, the wire) is not in it.
#   bash bench/herd_pg_profile.sh [providers=10000] [ngos=0]
# Needs the release build (cmake --preset release && cmake --build --preset release).
set -euo pipefail
cd "$(dirname "$0")/.."
providers=${1:-10000}
ngos=${2:-0}
bin=${PAHLAWAN_BIN:-build/release/src/pahlawan}
source scripts/services.sh
trap stop_services EXIT
start_postgres
echo "shared_preload_libraries = 'pg_stat_statements'" >>"$PP_PG_DIR/data/postgresql.conf"
postgres_stop
postgres_start
server=$PAHLAWAN_TEST_POSTGRES
PGOPTIONS="-c client_min_messages=warning" psql -q "$server" -c "CREATE DATABASE pp_profile" >/dev/null
db="${server%/*}/pp_profile"
psql -q "$db" -c "CREATE EXTENSION pg_stat_statements" -c "SELECT pg_stat_statements_reset()" >/dev/null
ngo_args=()
[ "$ngos" -gt 0 ] && ngo_args=(--ngos "$ngos")
build/release/bench/pahlawan-loadgen herd --server "$bin" --providers "$providers" "${ngo_args[@]}" --store "$db"
echo "== pg_stat_statements, by total execution time"
psql "$db" -P pager=off -c "
  SELECT calls, rows, round(total_exec_time::numeric, 1) AS total_ms,
         round((total_exec_time / calls * 1000)::numeric, 1) AS us_per_call,
         left(regexp_replace(query, '\s+', ' ', 'g'), 90) AS statement
  FROM pg_stat_statements WHERE dbid = (SELECT oid FROM pg_database WHERE datname = 'pp_profile')
  ORDER BY total_exec_time DESC LIMIT 15"
