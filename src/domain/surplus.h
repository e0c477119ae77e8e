// Surplus: one posted lot of food and its life cycle (available → claimed → picked_up, or expired /
// cancelled). A plain value; the transition rules live in surplus_rules.h.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/clock.h"

namespace pahlawan {

enum class SurplusStatus { kAvailable, kClaimed, kPickedUp, kExpired, kCancelled };

const char* status_name(SurplusStatus s);
std::optional<SurplusStatus> parse_status(std::string_view s);

// The pending match offer (made by the matcher; see issue 3).
struct Offer {
  std::string ngo_id;
  TimePoint deadline;
  int attempt = 0;
};

// The room an offer needs at its NGO: no more than max_pending offers pending, and (with a
// capacity) the kg it claimed since claims_since plus the kg offered to it, this one included,
// within capacity_kg. Several replicas offer to one NGO: the store checks this again inside the
// offer's commit, against every replica's offers (docs/replicas.md).
struct OfferBudget {
  std::string ngo_id;
  double kg = 0;
  int max_pending = 0;
  std::optional<double> capacity_kg;
  TimePoint claims_since;
};

struct Surplus {
  std::string id;
  std::string provider_id;
  std::string title;
  std::string category;
  double quantity_kg = 0;
  double lat = 0, lon = 0;
  uint64_t cell = 0;  // S2 cell id at the shard level: the shard actor that owns this item
  SurplusStatus status = SurplusStatus::kAvailable;
  int64_t version = 1;
  TimePoint created_at, expires_at;
  std::optional<Offer> offer;
  bool dead_lettered = false;
  std::optional<std::string> claimed_by;
  std::optional<TimePoint> claimed_at, picked_up_at;
  // Matching state: every NGO offered this item so far (in order), and why/when it entered the
  // Geo-DLQ while `dead_lettered`.
  std::vector<std::string> offered_to;
  std::optional<std::string> dlq_reason;
  std::optional<TimePoint> dlq_at;
  // Since when it has waited in its region's line for an NGO slot to free (every NGO that could take
  // it was at its pending-offer cap); unset once it is offered, dead-lettered or leaves "available".
  std::optional<TimePoint> waiting_since;

  bool is_open() const { return status == SurplusStatus::kAvailable || status == SurplusStatus::kClaimed; }
};

// Keeps the items within radius_m of (lat, lon), nearest first (ties by id), at most `limit`: the
// order a browse answers in, for stores whose index finds candidates by cell, not by distance.
void keep_nearest(std::vector<Surplus>& items, double lat, double lon, double radius_m, int limit);

}  // namespace pahlawan
