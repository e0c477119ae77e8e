#!/usr/bin/env bash
# The 10 PM herd and the rescue herd on the embedded default and on PostgreSQL, one after the other
# in the same run, with PostgreSQL's own pgbench figure for a one-row insert per transaction on the
# same server as the reference. Starts its own PostgreSQL (scripts/services.sh) and stops it after.
#   bash bench/herd_stacks.sh [providers=10000] [ngos=300]
# Needs the release build (cmake --preset release && cmake --build --preset release).
set -euo pipefail
cd "$(dirname "$0")/.."
providers=${1:-10000}
ngos=${2:-300}
bin=${PAHLAWAN_BIN:-build/release/src/pahlawan}
gen=build/release/bench/pahlawan-loadgen
source scripts/services.sh
trap stop_services EXIT
start_postgres
server=$PAHLAWAN_TEST_POSTGRES
fresh_db() {
  PGOPTIONS="-c client_min_messages=warning" psql -q "$server" -c "DROP DATABASE IF EXISTS $1 WITH (FORCE)" \
    -c "CREATE DATABASE $1" >/dev/null
  echo "${server%/*}/$1"
}

echo "== pgbench: one-row INSERT per transaction (synchronous_commit on), 64 clients, 2 threads, 10 s"
pgb=$(fresh_db pp_pgbench)
psql -q "$pgb" -c "CREATE TABLE one_row (id bigserial PRIMARY KEY, body text NOT NULL)"
echo "INSERT INTO one_row (body) VALUES ('surplus');" >"$PP_PG_DIR/insert.sql"
pgbench -n -f "$PP_PG_DIR/insert.sql" -c 64 -j 2 -T 10 "$pgb" | grep -E "latency average|^tps|failed"

for stack in embedded postgres; do
  store=()
  [ "$stack" = postgres ] && store=(--store "$(fresh_db pp_herd)")
  echo "== herd on $stack: $providers posts in 1 s"
  "$gen" herd --server "$bin" --providers "$providers" "${store[@]}"
  [ "$stack" = postgres ] && store=(--store "$(fresh_db pp_rescue)")
  echo "== rescue herd on $stack: $providers posts in 1 s, $ngos NGOs acknowledging"
  "$gen" herd --server "$bin" --providers "$providers" --ngos "$ngos" "${store[@]}"
done
