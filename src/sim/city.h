// CityModel: one evening of a city for the simulator — where the restaurants are (districts), when
// and what they post, the NGOs (place, capacity, categories, kind) and how NGOs behave (answer or
// not, how fast, decline, no-show), plus the matching settings the evening runs with.
// Built-in: Jakarta's standard evening and the 10,000-restaurant herd; any field can come from a JSON
// file instead (`pahlawan simulate --city FILE`; `--print-city` writes the built-in one as a start).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace pahlawan::sim {

struct District {
  std::string name;
  double lat = 0, lon = 0;
  double radius_m = 1500;  // restaurants spread uniformly over this disc
  double weight = 1;       // share of the city's restaurants
};

struct FoodKind {
  std::string category;
  double weight = 1;     // share of posts
  double kg_median = 5;  // lognormal quantity
  double kg_sigma = 0.6;
  double shelf_hours_min = 2;  // ttl uniform in [min, max]
  double shelf_hours_max = 6;
};

struct CityModel {
  std::string name = "jakarta";
  double lat = -6.1754, lon = 106.8272;  // the centre (NGOs spread around it)
  int utc_offset_h = 7;
  std::vector<District> districts;
  int providers = 2000;
  int posts = 3000;
  // When posts come (local hours): the evening, and the share of posts inside its peak.
  double evening_start_h = 17, evening_end_h = 24;
  double peak_start_h = 21, peak_end_h = 22.5, peak_share = 0.6;
  double burst_s = 0;  // > 0: every post within this many seconds after peak_start_h (a herd)
  std::vector<FoodKind> food;
  // NGOs: spread over a disc around the centre; a share are food banks (offered only on a DLQ retry),
  // a share take only one category.
  int ngos = 150;
  double ngo_spread_m = 12000;
  double capacity_kg_min = 60, capacity_kg_max = 400;
  double food_bank_share = 0.1;
  double specialist_share = 0.2;
  // Behaviour of an NGO offered an item: claims with accept_p, declines with decline_p, else lets the
  // offer lapse; answers after a lognormal delay; a claimer fails to pick up with no_show_p; travels
  // at speed_kmh.
  double accept_p = 0.8, decline_p = 0.1;
  double respond_median_s = 60, respond_sigma = 0.8;
  double no_show_p = 0.03;
  double speed_kmh = 20;
  // Matching settings of the evening (the server's flags of the same names).
  double match_radius_m = 10000;
  int max_pending_offers = 3, max_attempts = 5, ack_timeout_s = 300, max_wait_s = 600, pickup_margin_s = 900;
};

CityModel jakarta_evening();
// 10,000 restaurants posting in the same second at 22:00, 300 NGOs (the rescue herd, issue 9).
CityModel jakarta_herd();
// A built-in city by name (jakarta, herd); NotFound otherwise.
Result<CityModel> builtin_city(std::string_view name);
// The fields of `text` over jakarta_evening(); an unknown field or a value of the wrong type is an
// error, never ignored.
Result<CityModel> city_from_json(std::string_view text);
std::string city_to_json(const CityModel& city);

}  // namespace pahlawan::sim
