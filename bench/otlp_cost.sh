#!/usr/bin/env bash
# What tracing costs the request path: wrk posts against the embedded default (release build) with no
# --otlp-endpoint (at --log-level warn, then at the default info: what the request log line costs),
# with a live collector, with a collector that accepts connections and never answers
# (a hung one: every batch runs into its 2 s deadline), and with one whose port refuses connections.
# After each run: otlp_spans_total by outcome, from /metrics.
#   bash bench/otlp_cost.sh [seconds=5] [connections=256] [providers=1000]
# Needs the release build, wrk and python3 (the collectors are small Python servers).
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/lib.sh
seconds=${1:-5}
connections=${2:-256}
providers=${3:-1000}
ensure_wrk
bin=${PAHLAWAN_BIN:-build/release/src/pahlawan}
dir=$(mktemp -d)
pids=()
trap 'for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done; wait 2>/dev/null; rm -rf "$dir"' EXIT
admin=bench-admin-token-0123456789
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# A live collector: takes every POST, answers 200, counts the bytes.
live_port=$(free_port)
python3 - "$live_port" <<'PY' &
import http.server, sys
class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self.send_response(200); self.send_header("Content-Length", "2"); self.end_headers(); self.wfile.write(b"{}")
    def log_message(self, *a): pass
http.server.ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), H).serve_forever()
PY
pids+=($!)
# A hung collector: listens, never accepts, never answers.
hung_port=$(free_port)
python3 - "$hung_port" <<'PY' &
import socket, sys, time
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(1024)
while True: time.sleep(3600)
PY
pids+=($!)
refused_port=$(free_port)  # nothing listens there

for mode in quiet none live hung refused; do
  otlp=(--log-level info)
  case $mode in
    quiet) otlp=(--log-level warn) ;;  # no exporter and no request log lines: what the log line costs
    live) otlp+=(--otlp-endpoint "http://127.0.0.1:$live_port") ;;
    hung) otlp+=(--otlp-endpoint "http://127.0.0.1:$hung_port") ;;
    refused) otlp+=(--otlp-endpoint "http://127.0.0.1:$refused_port") ;;
  esac
  rm -rf "$dir/data" && mkdir -p "$dir/data"
  "$bin" serve --listen 127.0.0.1:0 --data-dir "$dir/data" --admin-token "$admin" --rate-limit 0 "${otlp[@]}" \
    >"$dir/out" 2>&1 &
  pid=$!
  port=$(listening_port "$dir/out")
  python3 bench/register_providers.py "$port" "$admin" "$providers" >"$dir/tokens"
  echo "== collector: $mode — wrk POST /v1/surplus, 1 thread, $connections connections, ${seconds}s"
  PROVIDER_TOKENS=$dir/tokens wrk -t1 -c"$connections" -d"${seconds}s" --latency -s bench/post.lua \
    "http://127.0.0.1:$port" | grep -E "Requests/sec|50%|99%|Non-2xx|requests in"
  sleep 1.5  # one more export interval, so the counts below include the run's last batch
  curl -s "http://127.0.0.1:$port/metrics" | grep -E '^otlp_spans_total' || echo "(no exporter)"
  kill $pid && wait $pid 2>/dev/null || true
done
