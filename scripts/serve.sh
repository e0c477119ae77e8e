#!/usr/bin/env bash
# Installs what is missing, builds the release binary, and runs the server on the embedded default:
# one process, SQLite in ./data, nothing else to start. Extra arguments go to `pahlawan serve`
# (e.g. --listen 0.0.0.0:8080 --data-dir /var/lib/pahlawan).
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/install-deps.sh
cmake --preset release >/dev/null
cmake --build --preset release -j "$(nproc)" --target pahlawan
exec ./build/release/src/pahlawan serve "$@"
