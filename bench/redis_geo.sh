#!/usr/bin/env bash
# Runs bench/redis_geo_bench.cc against a private redis-server (Debian's), started here on a free
# loopback port without persistence and stopped after.
#   bash bench/redis_geo.sh [extra google-benchmark flags]
# Needs the release build (cmake --preset release && cmake --build --preset release).
set -euo pipefail
cd "$(dirname "$0")/.."
dir=$(mktemp -d)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
redis-server --bind 127.0.0.1 --port "$port" --save "" --appendonly no --dir "$dir" --logfile "$dir/log" &
pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null; rm -rf "$dir"' EXIT
until redis-cli -p "$port" ping >/dev/null 2>&1; do sleep 0.1; done
REDIS_PORT=$port build/release/bench/redis_geo_bench "$@"
