// The offline optimum of an evening: every item known in advance, assigned to NGOs in one min-cost
// flow (LEMON's NetworkSimplex) — the most kg that could be rescued within the NGOs' capacities, and
// at that, the least travel. Flow is in grams and an item may split across NGOs, so this is the
// linear relaxation: an upper bound on kg for any online matching, and a lower bound on travel.
// Time is ignored (every NGO could take every item whenever it was posted).
#pragma once

#include <vector>

#include "domain/party.h"
#include "ports/ngo_directory.h"
#include "sim/simulation.h"

namespace pahlawan::sim {

struct OfflineItem {
  double lat = 0, lon = 0, kg = 0;
  std::string category;
};

// Candidates per item: the `k` nearest NGOs within `radius_m` of it (as the matcher sees them) that
// may take it by kind and category.
OfflineBound offline_optimum(const std::vector<OfflineItem>& items, const NgoDirectory& ngos, double radius_m,
                             int k = 32);

}  // namespace pahlawan::sim
