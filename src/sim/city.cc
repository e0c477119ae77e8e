#include "sim/city.h"

#include <boost/json.hpp>

#include "app/json_text.h"

#include <functional>
#include <map>
#include <variant>

namespace pahlawan::sim {
namespace {

namespace json = boost::json;

// One object's fields, by name: where each value goes. Reading and writing both walk this table, so
// the file format and the struct cannot drift apart.
using Field = std::variant<double*, int*, std::string*>;

template <class T>
std::map<std::string, Field> fields_of(T& x);

template <>
std::map<std::string, Field> fields_of(District& d) {
  return {{"name", &d.name}, {"lat", &d.lat}, {"lon", &d.lon}, {"radius_m", &d.radius_m}, {"weight", &d.weight}};
}

template <>
std::map<std::string, Field> fields_of(FoodKind& f) {
  return {{"category", &f.category},
          {"weight", &f.weight},
          {"kg_median", &f.kg_median},
          {"kg_sigma", &f.kg_sigma},
          {"shelf_hours_min", &f.shelf_hours_min},
          {"shelf_hours_max", &f.shelf_hours_max}};
}

template <>
std::map<std::string, Field> fields_of(CityModel& c) {
  return {{"name", &c.name},
          {"lat", &c.lat},
          {"lon", &c.lon},
          {"utc_offset_h", &c.utc_offset_h},
          {"providers", &c.providers},
          {"posts", &c.posts},
          {"evening_start_h", &c.evening_start_h},
          {"evening_end_h", &c.evening_end_h},
          {"peak_start_h", &c.peak_start_h},
          {"peak_end_h", &c.peak_end_h},
          {"peak_share", &c.peak_share},
          {"burst_s", &c.burst_s},
          {"ngos", &c.ngos},
          {"ngo_spread_m", &c.ngo_spread_m},
          {"capacity_kg_min", &c.capacity_kg_min},
          {"capacity_kg_max", &c.capacity_kg_max},
          {"food_bank_share", &c.food_bank_share},
          {"specialist_share", &c.specialist_share},
          {"accept_p", &c.accept_p},
          {"decline_p", &c.decline_p},
          {"respond_median_s", &c.respond_median_s},
          {"respond_sigma", &c.respond_sigma},
          {"no_show_p", &c.no_show_p},
          {"speed_kmh", &c.speed_kmh},
          {"match_radius_m", &c.match_radius_m},
          {"max_pending_offers", &c.max_pending_offers},
          {"max_attempts", &c.max_attempts},
          {"ack_timeout_s", &c.ack_timeout_s},
          {"max_wait_s", &c.max_wait_s},
          {"pickup_margin_s", &c.pickup_margin_s}};
}

Status read_field(const std::string& where, const json::value& v, const Field& field) {
  if (auto* d = std::get_if<double*>(&field)) {
    if (!v.is_number()) return invalid(where + " must be a number");
    **d = v.to_number<double>();
  } else if (auto* i = std::get_if<int*>(&field)) {
    if (!v.is_int64() && !v.is_uint64()) return invalid(where + " must be an integer");
    **i = static_cast<int>(v.to_number<int64_t>());
  } else {
    if (!v.is_string()) return invalid(where + " must be a string");
    **std::get_if<std::string*>(&field) = std::string(v.get_string());
  }
  return Status::ok();
}

// Reads the scalar fields of `o` into `x`; `nested` handles the array fields by name.
template <class T>
Status read_object(const std::string& where, const json::object& o, T& x,
                   const std::function<Result<bool>(const std::string&, const json::value&)>& nested = {}) {
  auto table = fields_of(x);
  for (const auto& [key, v] : o) {
    const std::string name(key);
    if (auto it = table.find(name); it != table.end()) {
      if (Status s = read_field(where + "." + name, v, it->second); !s) return s;
      continue;
    }
    if (nested) {
      auto handled = nested(name, v);
      if (!handled) return handled.status();
      if (*handled) continue;
    }
    return invalid("unknown field " + where + "." + name);
  }
  return Status::ok();
}

template <class T>
Result<std::vector<T>> read_array(const std::string& where, const json::value& v) {
  if (!v.is_array()) return invalid(where + " must be an array");
  std::vector<T> out;
  for (const auto& e : v.get_array()) {
    if (!e.is_object()) return invalid(where + " must hold objects");
    T x;
    if (Status s = read_object(where + "[]", e.get_object(), x); !s) return s;
    out.push_back(std::move(x));
  }
  return out;
}

template <class T>
json::object write_object(T x) {
  json::object o;
  for (const auto& [name, field] : fields_of(x)) {
    std::visit([&, n = name](auto* p) { o[n] = *p; }, field);
  }
  return o;
}

}  // namespace

CityModel jakarta_evening() {
  CityModel c;
  // Restaurant districts of central Jakarta and around it.
  c.districts = {
      {"Menteng", -6.1960, 106.8330, 1500, 1.0},     {"SCBD-Sudirman", -6.2260, 106.8090, 1500, 1.4},
      {"Kemang", -6.2610, 106.8130, 1800, 1.0},      {"Blok M", -6.2440, 106.7990, 1200, 0.9},
      {"Kota-Glodok", -6.1440, 106.8130, 1500, 0.8}, {"Kelapa Gading", -6.1580, 106.9080, 2000, 1.1},
      {"Tebet", -6.2260, 106.8530, 1500, 0.7},       {"Senopati", -6.2330, 106.8090, 900, 0.8},
      {"PIK", -6.1100, 106.7400, 2200, 0.9},         {"Cikini", -6.1880, 106.8400, 900, 0.5},
  };
  c.food = {
      {"prepared_meal", 0.45, 6, 0.7, 2, 5}, {"bakery", 0.25, 4, 0.6, 6, 14}, {"produce", 0.15, 8, 0.7, 12, 36},
      {"dairy", 0.10, 3, 0.5, 6, 24},        {"other", 0.05, 3, 0.6, 4, 12},
  };
  return c;
}

CityModel jakarta_herd() {
  CityModel c = jakarta_evening();
  c.name = "herd";
  c.providers = 10000;
  c.posts = 10000;
  c.peak_start_h = 22;
  c.burst_s = 1;
  c.ngos = 300;
  c.capacity_kg_min = 150;
  c.capacity_kg_max = 600;
  return c;
}

Result<CityModel> builtin_city(std::string_view name) {
  if (name == "jakarta") return jakarta_evening();
  if (name == "herd") return jakarta_herd();
  return Status(ErrorCode::kNotFound, "no built-in city '" + std::string(name) + "' (jakarta, herd)");
}

Result<CityModel> city_from_json(std::string_view text) {
  boost::system::error_code ec;
  json::value v = json::parse(text, ec);
  if (ec || !v.is_object()) return invalid("the city file is not a JSON object");
  CityModel c = jakarta_evening();
  Status s = read_object<CityModel>("city", v.get_object(), c,
                                    [&](const std::string& name, const json::value& x) -> Result<bool> {
                                      if (name == "districts") {
                                        auto d = read_array<District>("city.districts", x);
                                        if (!d) return d.status();
                                        c.districts = std::move(*d);
                                        return true;
                                      }
                                      if (name == "food") {
                                        auto f = read_array<FoodKind>("city.food", x);
                                        if (!f) return f.status();
                                        c.food = std::move(*f);
                                        return true;
                                      }
                                      return false;
                                    });
  if (!s) return s;
  if (c.districts.empty() || c.food.empty()) return invalid("a city needs districts and food");
  if (c.posts < 0 || c.ngos < 0 || c.providers < 1) return invalid("posts, ngos >= 0 and providers >= 1");
  if (c.accept_p < 0 || c.decline_p < 0 || c.accept_p + c.decline_p > 1) {
    return invalid("accept_p and decline_p must be probabilities summing to at most 1");
  }
  return c;
}

std::string city_to_json(const CityModel& city) {
  json::object o = write_object(city);
  json::array districts, food;
  for (const auto& d : city.districts) districts.push_back(write_object(d));
  for (const auto& f : city.food) food.push_back(write_object(f));
  o["districts"] = std::move(districts);
  o["food"] = std::move(food);
  return to_text(o);
}

}  // namespace pahlawan::sim
