// The city simulator: one evening of a city (CityModel) driven through the real engine — shard
// actors, matcher, ledger, waiting line, deadlines, Geo-DLQ — over the in-memory store, on one thread,
// with a manual clock and a manual executor. NGOs answer offers, claim and pick up as the city's
// behaviour says; time jumps from one thing to the next, so hours of evening run in seconds. The same
// seed gives the same report.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>

#include "sim/city.h"

namespace pahlawan::sim {

struct SimOptions {
  uint64_t seed = 1;
  CityModel city = jakarta_evening();
  bool waiting_line = true;                   // off: today's greedy, busy NGOs mean the Geo-DLQ
  std::chrono::milliseconds match_window{0};  // > 0: batch assignment over windows this long
  bool offline = true;                        // also solve the offline optimum (the upper bound)
};

struct Quantiles {
  double p50 = 0, p95 = 0, max = 0;
};

// The offline optimum: every post known in advance, assigned in one min-cost flow (kg may split
// across NGOs: a relaxation, so it bounds what any online matching can rescue from above).
struct OfflineBound {
  double kg_assigned = 0;
  double travel_km = 0;  // distance × share of each item assigned
  double km_per_tonne = 0;
};

struct SimReport {
  std::string city, mode;
  uint64_t seed = 0;
  int items = 0, ngos = 0;
  double kg_posted = 0, kg_claimed = 0, kg_picked_up = 0;
  int claimed = 0, picked_up = 0;
  Quantiles claim_s;           // post → claim
  double travel_km_total = 0;  // claimer's NGO ↔ item, great-circle, per claimed item
  double travel_km_median = 0;
  double km_per_tonne = 0;     // travel per tonne claimed
  double offers_per_item = 0;  // mean over items
  int offers_max = 0;
  Quantiles offers_per_ngo;  // offers each NGO received over the evening
  int max_pending = 0;       // most offers any NGO held at once (the cap must hold)
  int cap = 0;
  int dead_lettered = 0;  // items that entered the Geo-DLQ at least once
  std::map<std::string, int> dlq_reasons;
  int waited = 0;  // items that waited in line at least once
  Quantiles waited_s;
  int expired = 0;  // items that expired unclaimed
  std::optional<OfflineBound> offline;
  double wall_s = 0;
};

SimReport run_simulation(const SimOptions& options);
std::string report_text(const SimReport& r);
// with_wall: include the run's wall time (which differs from run to run; the rest does not).
std::string report_json(const SimReport& r, bool with_wall = false);

}  // namespace pahlawan::sim
