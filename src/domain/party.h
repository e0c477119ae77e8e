// The parties of the platform: providers post surplus, NGOs rescue it, the admin registers both.
// Principal is who a bearer token stands for. Plain values.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "common/clock.h"

namespace pahlawan {

// kNone is what a default-constructed Principal holds: it may do nothing, so a code path that forgets
// to authenticate fails closed instead of acting as the admin.
enum class Role { kNone, kAdmin, kProvider, kNgo };

struct Principal {
  Role role = Role::kNone;
  std::string id;  // empty for the admin
};

struct Provider {
  std::string id, name;
  double lat = 0, lon = 0;
  TimePoint created_at;
};

enum class NgoKind { kNgo, kFoodBank };

struct Ngo {
  std::string id, name;
  double lat = 0, lon = 0;
  NgoKind kind = NgoKind::kNgo;
  std::vector<std::string> categories;  // empty: accepts every category
  std::optional<double> capacity_kg;    // per rolling 24 h; absent: unlimited
  std::optional<std::string> webhook_url;
  TimePoint created_at;
  std::optional<std::string> webhook_secret;  // HMAC key of its webhooks; never rendered
};

}  // namespace pahlawan
