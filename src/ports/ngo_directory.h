// NgoDirectory: the registered NGOs by place, so the matcher asks "who is near this item" of an index
// rather than scanning every NGO. Thread-safe; entries are immutable snapshots.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "domain/party.h"

namespace pahlawan {

struct NgoNear {
  std::shared_ptr<const Ngo> ngo;
  double distance_m = 0;
};

class NgoDirectory {
 public:
  virtual ~NgoDirectory() = default;
  virtual void add(Ngo ngo) = 0;
  virtual std::shared_ptr<const Ngo> find(const std::string& id) const = 0;
  // Up to k NGOs within radius_m of (lat, lon), nearest first.
  virtual std::vector<NgoNear> near(double lat, double lon, double radius_m, int k) const = 0;
};

}  // namespace pahlawan
