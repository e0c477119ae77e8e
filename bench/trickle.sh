#!/usr/bin/env bash
# Does a slowloris crowd slow other clients? wrk on GET /healthz for `seconds`, first alone, then
# while bench/trickle.py holds `connections` trickling connections.
#   bash bench/trickle.sh [connections=1000] [seconds=20]
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/lib.sh
connections=${1:-1000}
seconds=${2:-20}
bin=${PAHLAWAN_BIN:-build/release/src/pahlawan}
dir=$(mktemp -d)
"$bin" serve --listen 127.0.0.1:0 --data-dir "$dir" --admin-token bench-admin-token-0123456789 >"$dir/out" 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null; rm -rf "$dir"' EXIT
port=$(listening_port "$dir/out")
echo "== wrk alone"
wrk -t1 -c16 -d"${seconds}s" --latency "http://127.0.0.1:$port/healthz" | grep -E "Requests/sec|50%|99%"
echo "== wrk with $connections trickling connections"
python3 bench/trickle.py "$port" "$connections" "$((seconds + 4))" 2 &
tpid=$!
sleep 3
wrk -t1 -c16 -d"${seconds}s" --latency "http://127.0.0.1:$port/healthz" | grep -E "Requests/sec|50%|99%"
wait $tpid
curl -s "127.0.0.1:$port/metrics" | grep -E "^http_(timeouts_total|connections_open|connections_refused_total) "
