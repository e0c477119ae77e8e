#!/usr/bin/env bash
# The herd's posts driven by wrk (an independent load tool), closed loop, on the embedded default and
# on PostgreSQL: how many durable posts a second the server takes when the load tool is not ours.
# Checks pahlawan-loadgen's herd figures (bench/herd_stacks.sh), which are open loop.
#   bash bench/herd_wrk.sh [seconds=5] [connections=256] [providers=1000]
# Needs the release build and wrk (installed here if missing). Starts its own PostgreSQL.
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/lib.sh
seconds=${1:-5}
connections=${2:-256}
providers=${3:-1000}
ensure_wrk
bin=${PAHLAWAN_BIN:-build/release/src/pahlawan}
source scripts/services.sh
dir=$(mktemp -d)
pid=
trap '[ -n "$pid" ] && kill $pid 2>/dev/null; wait 2>/dev/null; stop_services; rm -rf "$dir"' EXIT
start_postgres
admin=bench-admin-token-0123456789
for stack in embedded postgres; do
  store=()
  if [ "$stack" = postgres ]; then
    PGOPTIONS="-c client_min_messages=warning" psql -q "$PAHLAWAN_TEST_POSTGRES" \
      -c "DROP DATABASE IF EXISTS pp_wrk WITH (FORCE)" -c "CREATE DATABASE pp_wrk" >/dev/null
    store=(--store "${PAHLAWAN_TEST_POSTGRES%/*}/pp_wrk" --migrate true)
  fi
  rm -rf "$dir/data" && mkdir -p "$dir/data"
  "$bin" serve --listen 127.0.0.1:0 --data-dir "$dir/data" --admin-token "$admin" --rate-limit 0 "${store[@]}" \
    >"$dir/out" 2>&1 &
  pid=$!
  port=$(listening_port "$dir/out")
  # Providers spread over Jakarta, as the herd's (registration is not timed).
  python3 bench/register_providers.py "$port" "$admin" "$providers" >"$dir/tokens"
  echo "== wrk on $stack: POST /v1/surplus, $providers providers, 1 thread, $connections connections, ${seconds}s"
  PROVIDER_TOKENS=$dir/tokens wrk -t1 -c"$connections" -d"${seconds}s" --latency -s bench/post.lua \
    "http://127.0.0.1:$port"
  kill $pid && wait $pid 2>/dev/null || true
  pid=
done
