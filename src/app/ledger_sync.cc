#include "app/ledger_sync.h"

#include <boost/json.hpp>

#include "common/time_format.h"

namespace pahlawan {

namespace json = boost::json;

void LedgerSync::on_event(const Event& event) {
  if (event.type.rfind("surplus.", 0) != 0 || event.surplus_id.empty()) return;
  boost::system::error_code ec;
  const json::value v = json::parse(event.data_json, ec);
  if (ec || !v.is_object()) return;
  const json::object& o = v.as_object();
  // What the ledger reads of the item's state, from the event's rendering of it.
  const auto* status = o.if_contains("status");
  const auto* kg = o.if_contains("quantity_kg");
  if (!status || !status->is_string() || !kg || !kg->is_number()) return;
  auto parsed = parse_status(status->as_string());
  if (!parsed) return;
  Surplus s;
  s.id = event.surplus_id;
  s.status = *parsed;
  s.quantity_kg = kg->to_number<double>();
  s.created_at = event.occurred_at;
  if (const auto* offer = o.if_contains("offer"); offer && offer->is_object()) {
    if (const auto* ngo = offer->as_object().if_contains("ngo_id"); ngo && ngo->is_string()) {
      s.offer = Offer{std::string(ngo->as_string()), {}, 0};
    }
  }
  const auto* by = o.if_contains("claimed_by");
  const auto* at = o.if_contains("claimed_at");
  if (by && by->is_string() && at && at->is_string()) {
    s.claimed_by = std::string(by->as_string());
    s.claimed_at = parse_rfc3339(at->as_string());
  }
  ledger_.follow(s);
}

}  // namespace pahlawan
