#!/usr/bin/env bash
# The nearby benchmark driven by wrk (an independent load tool) and by pahlawan-loadgen against the
# same seeded server, one after the other, so the generator's figure can be checked against wrk's.
#   bash bench/nearby_wrk.sh [seconds] [connections]
#   HOT=redis bash bench/nearby_wrk.sh ...   # the same with --hot on a private redis-server started here
# Needs the release build (cmake --preset release && cmake --build --preset release) and wrk
# (installed here if missing). The server runs with --rate-limit 0: wrk uses a single NGO token.
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/lib.sh
seconds=${1:-10}
connections=${2:-64}
ensure_wrk
bin=${PAHLAWAN_BIN:-build/release/src/pahlawan}
gen=build/release/bench/pahlawan-loadgen
dir=$(mktemp -d)
admin=bench-admin-token-0123456789
hot=()
redis_pid=
if [ "${HOT:-}" = redis ]; then
  rport=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  redis-server --bind 127.0.0.1 --port "$rport" --save "" --appendonly no --dir "$dir" --logfile "$dir/redis.log" &
  redis_pid=$!
  until redis-cli -p "$rport" ping >/dev/null 2>&1; do sleep 0.1; done
  hot=(--hot "redis://127.0.0.1:$rport")
fi
"$bin" serve --listen 127.0.0.1:0 --data-dir "$dir" --admin-token "$admin" --rate-limit 0 "${hot[@]}" >"$dir/out" 2>&1 &
pid=$!
trap 'kill $pid $redis_pid 2>/dev/null; wait $pid $redis_pid 2>/dev/null; rm -rf "$dir"' EXIT
port=$(listening_port "$dir/out")
echo "== seeding 100,000 items (pahlawan-loadgen nearby, then its own closed-loop browse for ${seconds}s)"
"$gen" nearby --port "$port" --admin-token "$admin" --seconds "$seconds" --connections "$connections"
[ "${SEED_ONLY:-0}" = 1 ] && exit 0
token=$(curl -s -X POST "127.0.0.1:$port/v1/ngos" -H "Authorization: Bearer $admin" \
  -d '{"name":"wrk","lat":-6.2,"lon":106.8}' | sed -n 's/.*"token":"\([^"]*\)".*/\1/p')
echo "== wrk, 1 thread, $connections connections, ${seconds}s"
if [ -n "$redis_pid" ]; then
  echo "== browse sources: $(curl -s "127.0.0.1:$port/metrics" | grep '^browse_source' | tr '\n' ' ')"
  echo "== redis: $(redis-cli -p "$rport" dbsize) keys"
fi
NGO_TOKEN=$token wrk -t1 -c"$connections" -d"${seconds}s" --latency -s bench/nearby.lua "http://127.0.0.1:$port"
if [ -n "$redis_pid" ]; then
  echo "== browse sources after wrk: $(curl -s "127.0.0.1:$port/metrics" | grep '^browse_source' | tr '\n' ' ')"
fi
