#include "app/metrics_subscriber.h"

#include <boost/json.hpp>

#include "common/time_format.h"
#include "domain/validation.h"

namespace pahlawan {

MetricsSubscriber::MetricsSubscriber(MetricsRegistry& registry)
    : registry_(registry),
      claim_latency_(registry.histogram("surplus_claim_latency_seconds", "Time from posting surplus to its claim",
                                        {1, 5, 15, 30, 60, 120, 300, 600, 1200, 1800, 3600, 7200, 14400})),
      tons_prevented_(registry.counter("food_waste_prevented_tons_total",
                                       "Tonnes of food claimed by NGOs (claimed kg / 1000, counted at claim)")) {}

void MetricsSubscriber::on_event(const Event& event) {
  if (event.seq != 0 && event.seq <= last_seq_) return;  // a replay after a relay restart
  last_seq_ = event.seq;
  registry_.counter("surplus_events_total", "Committed surplus events by type", "type=\"" + event.type + "\"").inc();
  if (event.type != "surplus.claimed") return;
  boost::system::error_code ec;
  const auto data = boost::json::parse(event.data_json, ec);
  if (ec || !data.is_object()) return;
  const auto& o = data.as_object();
  if (const auto* kg = o.if_contains("quantity_kg"); kg && kg->is_number()) {
    grams_prevented_ += grams_of(kg->to_number<double>());
    tons_prevented_.set_total(static_cast<double>(grams_prevented_) / 1e6);
  }
  const auto* created = o.if_contains("created_at");
  const auto* claimed = o.if_contains("claimed_at");
  if (created && claimed && created->is_string() && claimed->is_string()) {
    auto c = parse_rfc3339(std::string(created->as_string()));
    auto k = parse_rfc3339(std::string(claimed->as_string()));
    if (c && k) claim_latency_.observe(std::chrono::duration<double>(*k - *c).count());
  }
}

}  // namespace pahlawan
