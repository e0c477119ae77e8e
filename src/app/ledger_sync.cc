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
  const auto* status = o.if_contains("status");
  const auto* kg = o.if_contains("quantity_kg");
  if (!status || !status->is_string() || !kg || !kg->is_number()) return;
  const double quantity = kg->to_number<double>();
  const auto* offer = o.if_contains("offer");
  if (*status == "available" && offer && offer->is_object()) {
    const auto* ngo = offer->as_object().if_contains("ngo_id");
    if (ngo && ngo->is_string()) ledger_.force_reserve(std::string(ngo->as_string()), event.surplus_id, quantity);
  } else {
    ledger_.release(event.surplus_id);
  }
  const auto* by = o.if_contains("claimed_by");
  const auto* at = o.if_contains("claimed_at");
  if (by && by->is_string() && at && at->is_string()) {
    if (auto when = parse_rfc3339(at->as_string())) {
      ledger_.record_claim(std::string(by->as_string()), event.surplus_id, quantity, *when);
    }
  }
}

}  // namespace pahlawan
