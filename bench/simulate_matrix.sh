#!/usr/bin/env bash
# The matching modes side by side on the simulator's evenings (docs/matching.md): greedy (no waiting
# line, as before issue 9), greedy + waiting line, batch windows of 1, 2 and 5 s, and the offline
# optimum. Prints one markdown table per city.
#   bash bench/simulate_matrix.sh [seeds...]   (default: 1 2 3; the herd only with seed 1, HERD_SEEDS)
#   CITIES="jakarta docs/cities/jakarta-ample.json herd" (the default) chooses the evenings.
# Needs the release build (cmake --preset release && cmake --build --preset release).
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${PAHLAWAN_BIN:-build/release/src/pahlawan}
seeds=${*:-1 2 3}
for city in ${CITIES:-jakarta docs/cities/jakarta-ample.json herd}; do
  city_seeds=$seeds
  [ "$city" = herd ] && city_seeds=${HERD_SEEDS:-1}
  for seed in $city_seeds; do
    for mode in "--greedy" "" "--match-window 1s" "--match-window 2s" "--match-window 5s"; do
      # shellcheck disable=SC2086
      "$bin" simulate --city "$city" --seed "$seed" $mode --json 2>/dev/null
    done
  done
done | python3 bench/sim_table.py
