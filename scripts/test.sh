#!/usr/bin/env bash
# Installs what is missing, then builds and runs every test: the debug build, then the same tests
# under AddressSanitizer+UndefinedBehaviorSanitizer and under ThreadSanitizer, then the libFuzzer
# targets for a bounded time each (scripts/fuzz.sh; clang-14 with ASan+UBSan). It starts the servers
# the production stack's tests need (scripts/services.sh) and stops them after.
# PAHLAWAN_TEST_PRESETS="debug" limits the run to some builds (e.g. while iterating locally).
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/install-deps.sh

# Let ccache reuse objects across clones in different folders (CI clones afresh each run).
export CCACHE_BASEDIR="$PWD" CCACHE_NOHASHDIR=true

# The production stack's servers, for the tests that run against them (the PostgreSQL store's
# contract suite among them): private ports, temp directories, stopped on exit.
source scripts/services.sh
trap stop_services EXIT
start_postgres

presets=${PAHLAWAN_TEST_PRESETS:-"debug asan tsan fuzz"}
jobs=$(nproc)
for preset in $presets; do
  if [ "$preset" = fuzz ]; then
    echo "=== fuzz: build the targets, run each for ${PAHLAWAN_FUZZ_SECONDS:-20} s"
    bash scripts/fuzz.sh
    continue
  fi
  echo "=== ${preset}: configure, build, test"
  cmake --preset "$preset" >/dev/null
  cmake --build --preset "$preset" -j "$jobs"
  ctest --preset "$preset" -j "$jobs"
done
