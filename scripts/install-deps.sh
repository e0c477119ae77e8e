#!/usr/bin/env bash
# Installs the Debian 12 packages the embedded server, its tests and benchmarks need.
# Idempotent: packages already present are not touched, and apt is only asked when something is missing.
set -euo pipefail

packages=(
  build-essential cmake ninja-build ccache pkg-config
  libboost1.81-dev libboost-json1.81-dev libboost-url1.81-dev
  libs2-dev libabsl-dev libssl-dev
  libsqlite3-dev liblemon-dev
  libpq-dev postgresql-15 postgresql-15-postgis-3 postgresql-15-partman postgresql-contrib
  libnats-dev nats-server nginx prometheus
  libhiredis-dev redis-server
  libgtest-dev libgmock-dev googletest libbenchmark-dev
  curl ca-certificates python3 wrk
  clang-14 libclang-rt-14-dev
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

echo "installing: ${missing[*]}" >&2
sudo_cmd=()
[ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)
export DEBIAN_FRONTEND=noninteractive
"${sudo_cmd[@]}" apt-get update -qq
"${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
