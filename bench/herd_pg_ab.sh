#!/usr/bin/env bash
# Two builds of the server on the same PostgreSQL, the herd on the PostgreSQL store alternately with
# each (A, B, A, B …), a fresh database every run: how a change to the write path is measured on a
# machine whose figures drift between runs. Starts its own PostgreSQL.
#   bash bench/herd_pg_ab.sh BINARY_A BINARY_B [runs=2] [providers=10000]
# Needs the release build of the load generator (cmake --preset release && cmake --build --preset release).
set -euo pipefail
cd "$(dirname "$0")/.."
a=$1
b=$2
runs=${3:-2}
providers=${4:-10000}
source scripts/services.sh
trap stop_services EXIT
start_postgres >/dev/null 2>&1
server=$PAHLAWAN_TEST_POSTGRES
fresh_db() {
  PGOPTIONS="-c client_min_messages=warning" psql -q "$server" -c "DROP DATABASE IF EXISTS $1 WITH (FORCE)" \
    -c "CREATE DATABASE $1" >/dev/null
  echo "${server%/*}/$1"
}
for i in $(seq "$runs"); do
  for bin in "$a" "$b"; do
    echo "== $bin, run $i"
    build/release/bench/pahlawan-loadgen herd --server "$bin" --providers "$providers" --store "$(fresh_db pp_ab)" \
      | grep -E "^posts:|latency|store:|server CPU"
  done
done
