#!/usr/bin/env bash
# The 10 PM herd and the rescue herd on the embedded default, on PostgreSQL, and on PostgreSQL with
# the NATS JetStream bus (matching then rides the bus's "matcher" consumer), one after the other in
# the same run, with PostgreSQL's own pgbench figure for a one-row insert per transaction on the same
# server as the reference. Starts its own PostgreSQL (scripts/services.sh) and nats-server, and stops
# them after.
#   bash bench/herd_stacks.sh [providers=10000] [ngos=300]
# Needs the release build (cmake --preset release && cmake --build --preset release).
set -euo pipefail
cd "$(dirname "$0")/.."
providers=${1:-10000}
ngos=${2:-300}
bin=${PAHLAWAN_BIN:-build/release/src/pahlawan}
gen=build/release/bench/pahlawan-loadgen
source scripts/services.sh
nats_pid=
trap 'stop_services; [ -n "$nats_pid" ] && kill "$nats_pid" 2>/dev/null; true' EXIT
start_postgres
nats_port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
nats-server -js -sd "$PP_PG_DIR/nats" -a 127.0.0.1 -p "$nats_port" >"$PP_PG_DIR/nats.log" 2>&1 &
nats_pid=$!
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

for stack in embedded postgres postgres+nats; do
  store=()
  bus=
  [ "$stack" != embedded ] && store=(--store "$(fresh_db pp_herd)")
  # The spawned server takes the bus from its environment (PAHLAWAN_BUS), like every flag.
  [ "$stack" = postgres+nats ] && bus=nats://127.0.0.1:$nats_port
  echo "== herd on $stack: $providers posts in 1 s"
  PAHLAWAN_BUS=$bus "$gen" herd --server "$bin" --providers "$providers" "${store[@]}"
  [ "$stack" != embedded ] && store=(--store "$(fresh_db pp_rescue)")
  echo "== rescue herd on $stack: $providers posts in 1 s, $ngos NGOs acknowledging"
  PAHLAWAN_BUS=$bus "$gen" herd --server "$bin" --providers "$providers" --ngos "$ngos" "${store[@]}"
done
