#!/usr/bin/env bash
# The herd through nginx (deploy/nginx/pahlawan.conf): the embedded default, one replica and three
# replicas on the production stack (PostgreSQL + NATS JetStream + Redis), side by side in one run.
# For each: the herd (10,000 posts in 1 s) and the rescue herd (the same with NGOs holding offer
# streams through nginx and claiming), by pahlawan-loadgen against nginx's port; then CPU seconds
# per process (each replica, and the machine as a whole from /proc/stat) and the partitions each
# replica ended up holding. Starts its own PostgreSQL (scripts/services.sh), nats-server,
# redis-server and nginx on free loopback ports, and stops them after.
#   bash bench/herd_replicas.sh [providers=10000] [ngos=300]
#   STACKS=3-replicas:3 HERDS=rescue bash bench/herd_replicas.sh   # one part of it
#   HERDS=wrk bash bench/herd_replicas.sh    # the check by wrk: closed-loop posts through nginx
# KEEP=1 keeps the servers' logs (printed at the end) instead of removing them.
# Needs the release build (cmake --preset release && cmake --build --preset release).
set -euo pipefail
cd "$(dirname "$0")/.."
providers=${1:-10000}
ngos=${2:-300}
bin=$(realpath "${PAHLAWAN_BIN:-build/release/src/pahlawan}")
gen=build/release/bench/pahlawan-loadgen
admin=bench-admin-token-0123456789
source scripts/services.sh
pids=()
stack_pids=()
stop_stack() {
  for p in "${stack_pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${stack_pids[@]}"; do wait "$p" 2>/dev/null || true; done
  stack_pids=()
}
cleanup() {
  stop_stack
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  [ "${KEEP:-0}" = 1 ] && { cp -r "$work" /tmp/herd-replicas-kept 2>/dev/null; echo "logs kept in /tmp/herd-replicas-kept"; }
  stop_services
}
trap cleanup EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
start_postgres
work=$PP_PG_DIR
nats_port=$(free_port)
nats-server -js -sd "$work/nats" -a 127.0.0.1 -p "$nats_port" >"$work/nats.log" 2>&1 &
pids+=($!)
redis_port=$(free_port)
redis-server --bind 127.0.0.1 --port "$redis_port" --save "" --appendonly no --dir "$work" --logfile "$work/redis.log" &
pids+=($!)
until redis-cli -p "$redis_port" ping >/dev/null 2>&1; do sleep 0.1; done
fresh_db() {
  PGOPTIONS="-c client_min_messages=warning" psql -q "$PAHLAWAN_TEST_POSTGRES" -c "DROP DATABASE IF EXISTS $1 WITH (FORCE)" \
    -c "CREATE DATABASE $1" >/dev/null
  echo "${PAHLAWAN_TEST_POSTGRES%/*}/$1"
}
# utime + stime of a process, in clock ticks; and the machine's busy ticks (all cores).
ticks_of() { awk '{print $14 + $15}' "/proc/$1/stat"; }
machine_busy() { awk '/^cpu /{print $2 + $3 + $4 + $7 + $8}' /proc/stat; }
hz=$(getconf CLK_TCK)

# $1: label, $2: replicas (0: the embedded default), $3: --ngos for the rescue herd or 0.
run() {
  local label=$1 n=$2 with_ngos=$3 dir ports=() servers="" i port db
  dir=$(mktemp -d -p "$work")
  if [ "$n" = 0 ]; then
    port=$(free_port)
    "$bin" serve --listen "127.0.0.1:$port" --data-dir "$dir/data" --admin-token "$admin" --rate-limit 0 \
      >"$dir/server.log" 2>&1 &
    stack_pids+=($!)
    ports+=("$port")
  else
    db=$(fresh_db pp_replicas)
    "$bin" migrate --store "$db" >/dev/null
    redis-cli -p "$redis_port" flushall >/dev/null
    for i in $(seq 1 "$n"); do
      port=$(free_port)
      "$bin" serve --listen "127.0.0.1:$port" --data-dir "$dir/data$i" --admin-token "$admin" --rate-limit 0 \
        --store "$db" --bus "nats://127.0.0.1:$nats_port" --hot "redis://127.0.0.1:$redis_port" \
        --replica "r$i" >"$dir/server$i.log" 2>&1 &
      stack_pids+=($!)
      ports+=("$port")
    done
  fi
  for port in "${ports[@]}"; do
    until curl -sf "127.0.0.1:$port/readyz" >/dev/null 2>&1; do sleep 0.1; done
    servers+="    server 127.0.0.1:$port max_fails=0;"$'\n'
  done
  local server_pids=("${stack_pids[@]}")
  local nginx_port
  nginx_port=$(free_port)
  mkdir -p "$dir/nginx"
  python3 - "$dir/nginx" "$nginx_port" "$servers" <<'PY'
import os, sys
prefix, port, servers = sys.argv[1], sys.argv[2], sys.argv[3]
conf = open("deploy/nginx/pahlawan.conf").read()
conf = conf.replace("@UPSTREAMS@\n", servers).replace("@LISTEN@", "127.0.0.1:" + port)
conf = conf.replace("@PREFIX@", prefix).replace("@USER@", "user root;" if os.geteuid() == 0 else "")
open(prefix + "/nginx.conf", "w").write(conf)
PY
  nginx -p "$dir/nginx" -c "$dir/nginx/nginx.conf" -g "daemon off;" &
  stack_pids+=($!)
  until curl -sf "127.0.0.1:$nginx_port/healthz" >/dev/null 2>&1; do sleep 0.1; done

  local before=() m0 m1
  for p in "${server_pids[@]}"; do before+=("$(ticks_of "$p")"); done
  m0=$(machine_busy)
  local t0=$SECONDS
  if [ "$with_ngos" = wrk ]; then
    # The check by an independent tool: wrk posting as 1,000 providers (registered first, not timed),
    # closed loop, 256 connections, 5 s, through nginx.
    python3 bench/register_providers.py "$nginx_port" "$admin" 1000 >"$dir/tokens"
    m0=$(machine_busy)
    before=()
    for p in "${server_pids[@]}"; do before+=("$(ticks_of "$p")"); done
    t0=$SECONDS
    echo "== $label: wrk POST /v1/surplus, 1,000 providers, 1 thread, 256 connections, 5 s (through nginx)"
    PROVIDER_TOKENS=$dir/tokens wrk -t1 -c256 -d5s --latency -s bench/post.lua "http://127.0.0.1:$nginx_port" |
      grep -E "Requests/sec|^ +(50|99)%|wrk:|Non-2xx"
  else
    echo "== $label: $providers posts in 1 s$([ "$with_ngos" != 0 ] && echo ", $with_ngos NGOs acknowledging") (through nginx)"
    "$gen" herd --port "$nginx_port" --admin-token "$admin" --providers "$providers" --ngos "$with_ngos" |
      grep -vE "^  store:|server CPU" || true
  fi
  m1=$(machine_busy)
  local wall=$((SECONDS - t0))
  i=0
  for p in "${server_pids[@]}"; do
    local t held=""
    t=$(ticks_of "$p")
    [ "$n" != 0 ] && held=", partitions held $(curl -s "127.0.0.1:${ports[$i]}/metrics" | awk '/^replica_partitions_held /{print $2}')"
    echo "  process $((i + 1)): CPU $(awk -v a="${before[$i]}" -v b="$t" -v hz="$hz" 'BEGIN{printf "%.2f", (b - a) / hz}') s$held"
    i=$((i + 1))
  done
  echo "  machine: $(awk -v a="$m0" -v b="$m1" -v hz="$hz" 'BEGIN{printf "%.2f", (b - a) / hz}') CPU s busy over ~${wall} s (2 cores)"
  stop_stack
}

# STACKS and HERDS pick a part of the run (e.g. STACKS=3-replicas:3 HERDS=rescue).
for stack in ${STACKS:-embedded:0 1-replica:1 3-replicas:3}; do
  for herd in ${HERDS:-herd rescue wrk}; do
    case $herd in
      herd) run "herd, ${stack%%:*}" "${stack##*:}" 0 ;;
      rescue) run "rescue herd, ${stack%%:*}" "${stack##*:}" "$ngos" ;;
      wrk) run "posts by wrk, ${stack%%:*}" "${stack##*:}" wrk ;;
    esac
  done
done
