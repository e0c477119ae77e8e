#include "app/json_render.h"

#include <boost/json.hpp>

#include "app/json_text.h"

#include "common/time_format.h"
#include "domain/geo.h"

namespace pahlawan {
namespace json = boost::json;
namespace {

json::value time_or_null(const std::optional<TimePoint>& t) {
  return t ? json::value(format_rfc3339(*t)) : json::value(nullptr);
}

json::object surplus_object(const Surplus& s) {
  json::object o;
  o["id"] = s.id;
  o["provider_id"] = s.provider_id;
  o["title"] = s.title;
  o["category"] = s.category;
  o["quantity_kg"] = s.quantity_kg;
  o["lat"] = s.lat;
  o["lon"] = s.lon;
  o["cell"] = cell_token(s.cell);
  o["status"] = status_name(s.status);
  o["version"] = s.version;
  o["created_at"] = format_rfc3339(s.created_at);
  o["expires_at"] = format_rfc3339(s.expires_at);
  if (s.offer) {
    o["offer"] = json::object{
        {"ngo_id", s.offer->ngo_id}, {"deadline", format_rfc3339(s.offer->deadline)}, {"attempt", s.offer->attempt}};
  } else {
    o["offer"] = nullptr;
  }
  o["waiting_since"] = time_or_null(s.waiting_since);
  o["dead_lettered"] = s.dead_lettered;
  o["claimed_by"] = s.claimed_by ? json::value(*s.claimed_by) : json::value(nullptr);
  o["claimed_at"] = time_or_null(s.claimed_at);
  o["picked_up_at"] = time_or_null(s.picked_up_at);
  return o;
}

}  // namespace

std::string render_surplus(const Surplus& s) {
  return to_text(surplus_object(s));
}

std::string render_provider(const Provider& p, const std::optional<std::string>& token) {
  json::object o{
      {"id", p.id}, {"name", p.name}, {"lat", p.lat}, {"lon", p.lon}, {"created_at", format_rfc3339(p.created_at)}};
  if (token) o["token"] = *token;
  return to_text(o);
}

std::string render_ngo(const Ngo& n, const std::optional<std::string>& token,
                       const std::optional<std::string>& webhook_secret) {
  json::array cats;
  for (const auto& c : n.categories) cats.emplace_back(c);
  json::object o{{"id", n.id},
                 {"name", n.name},
                 {"lat", n.lat},
                 {"lon", n.lon},
                 {"kind", n.kind == NgoKind::kFoodBank ? "food_bank" : "ngo"},
                 {"categories", std::move(cats)},
                 {"capacity_kg", n.capacity_kg ? json::value(*n.capacity_kg) : json::value(nullptr)},
                 {"webhook_url", n.webhook_url ? json::value(*n.webhook_url) : json::value(nullptr)},
                 {"created_at", format_rfc3339(n.created_at)}};
  if (token) o["token"] = *token;
  if (webhook_secret) o["webhook_secret"] = *webhook_secret;
  return to_text(o);
}

std::string dlq_region(const Surplus& s) {
  return region_token(s.lat, s.lon);
}

std::string render_dlq_entry(const Surplus& s) {
  json::object o{{"id", s.id},
                 {"surplus", surplus_object(s)},
                 {"region", dlq_region(s)},
                 {"reason", s.dlq_reason.value_or("")},
                 {"attempts", static_cast<int64_t>(s.offered_to.size())},
                 {"created_at", time_or_null(s.dlq_at)}};
  return to_text(o);
}

std::string render_audit(const char* party_kind, const std::string& party_id) {
  return to_text(json::object{{"party", party_kind}, {"party_id", party_id}, {"by", "admin"}});
}

std::optional<std::pair<std::string, std::string>> parse_audit(const std::string& data_json) {
  boost::system::error_code ec;
  const json::value v = json::parse(data_json, ec);
  if (ec || !v.is_object()) return std::nullopt;
  const auto* kind = v.as_object().if_contains("party");
  const auto* id = v.as_object().if_contains("party_id");
  if (!kind || !id || !kind->is_string() || !id->is_string()) return std::nullopt;
  return std::make_pair(std::string(kind->get_string()), std::string(id->get_string()));
}

std::string render_token(const std::string& party_id, const std::string& token) {
  return to_text(json::object{{"id", party_id}, {"token", token}});
}

std::string render_token_revoked(const std::string& party_id) {
  return to_text(json::object{{"id", party_id}, {"revoked", true}});
}

std::string render_event(const Event& e) {
  json::object o{{"id", e.id},
                 {"type", e.type},
                 {"surplus_id", e.surplus_id},
                 {"occurred_at", format_rfc3339(e.occurred_at)},
                 {"traceparent", e.traceparent}};
  // data_json was rendered by this file (render_surplus), so it is spliced in rather than re-parsed.
  std::string out = to_text(o);
  out.pop_back();
  out += ",\"data\":";
  out += e.data_json.empty() ? "{}" : e.data_json;
  out += '}';
  return out;
}

std::optional<Event> parse_rendered_event(std::string_view text) {
  boost::system::error_code ec;
  const json::value v = json::parse(text, ec);
  if (ec || !v.is_object()) return std::nullopt;
  const json::object& o = v.as_object();
  Event e;
  for (auto [key, field] : {std::pair{"id", &e.id}, std::pair{"type", &e.type}, std::pair{"surplus_id", &e.surplus_id},
                            std::pair{"traceparent", &e.traceparent}}) {
    const auto* f = o.if_contains(key);
    if (!f || !f->is_string()) return std::nullopt;
    *field = std::string(f->get_string());
  }
  const auto* at = o.if_contains("occurred_at");
  const auto when = at && at->is_string() ? parse_rfc3339(at->get_string()) : std::nullopt;
  const auto* data = o.if_contains("data");
  if (!when || !data || !data->is_object() || e.id.empty()) return std::nullopt;
  e.occurred_at = *when;
  // The payload exactly as rendered (render_event splices it in last): a quote can appear in the
  // earlier fields only escaped, so the first `,"data":` is the payload's.
  const auto at_data = text.find(",\"data\":");
  if (at_data == std::string_view::npos || text.back() != '}') return std::nullopt;
  e.data_json = std::string(text.substr(at_data + 8, text.size() - at_data - 9));
  return e;
}

}  // namespace pahlawan
