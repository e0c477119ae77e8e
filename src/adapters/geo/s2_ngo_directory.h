// S2NgoDirectory: the in-process NgoDirectory — an S2PointIndex of NGO locations queried with
// S2ClosestPointQuery. Thread-safe (shared_mutex: lookups are many, registrations few).
#pragma once

#include <memory>
#include <shared_mutex>
#include <unordered_map>

#include "ports/ngo_directory.h"

namespace pahlawan {

class S2NgoDirectory final : public NgoDirectory {
 public:
  S2NgoDirectory();
  ~S2NgoDirectory() override;
  void add(Ngo ngo) override;
  std::shared_ptr<const Ngo> find(const std::string& id) const override;
  std::vector<NgoNear> near(double lat, double lon, double radius_m, int k) const override;

 private:
  struct Impl;
  mutable std::shared_mutex mu_;
  std::unique_ptr<Impl> impl_;  // GUARDED_BY(mu_)
};

}  // namespace pahlawan
