#include "engine/matcher.h"

#include <algorithm>
#include <chrono>

#include "domain/event.h"
#include "domain/geo.h"

namespace pahlawan {

Matcher::Matcher(NgoDirectory& directory, NgoLedger& ledger, RouteEstimator& routes, const Clock& clock,
                 MatcherSettings settings, MetricsRegistry* metrics)
    : directory_(directory), ledger_(ledger), routes_(routes), clock_(clock), settings_(std::move(settings)) {
  if (metrics) {
    offers_ = &metrics->counter("surplus_offers_total", "Offers made to NGOs");
    rematches_ = &metrics->counter("surplus_rematches_total",
                                   "Offers of an item to a next NGO, after a lapse, a decline or a DLQ retry");
    dlq_no_ngo_ = &metrics->counter("surplus_dead_lettered_total", "Items sent to the Geo-DLQ, by reason",
                                    "reason=\"no_eligible_ngo\"");
    dlq_max_attempts_ = &metrics->counter("surplus_dead_lettered_total", "Items sent to the Geo-DLQ, by reason",
                                          "reason=\"max_attempts\"");
    dlq_waited_ = &metrics->counter("surplus_dead_lettered_total", "Items sent to the Geo-DLQ, by reason",
                                    "reason=\"waited_too_long\"");
    waits_ = &metrics->counter("surplus_waiting_total",
                               "Items that entered the waiting line (every NGO that could take them was busy)");
    const std::string help =
        "From an item's post to its first match decision, durable: offered, waiting or "
        "dead-lettered";
    const std::vector<double> bounds = {0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30};
    first_offered_ = &metrics->histogram("surplus_first_decision_seconds", help, bounds, "outcome=\"offered\"");
    first_waiting_ = &metrics->histogram("surplus_first_decision_seconds", help, bounds, "outcome=\"waiting\"");
    first_dead_lettered_ =
        &metrics->histogram("surplus_first_decision_seconds", help, bounds, "outcome=\"dead_lettered\"");
  }
}

void Matcher::committed(const Surplus& after) {
  // Version 1 is the post; every decision adds one, so the first decision is version 2 (a claim or a
  // cancel before any match is version 2 too, but not available).
  if (after.version != 2 || after.status != SurplusStatus::kAvailable) return;
  Histogram* h = after.offer           ? first_offered_
                 : after.waiting_since ? first_waiting_
                 : after.dead_lettered ? first_dead_lettered_
                                       : nullptr;
  if (h) h->observe(std::chrono::duration<double>(clock_.now() - after.created_at).count());
}

std::variant<Decision, MatchPlan> Matcher::plan(const Surplus& s, const MatchPolicy* relaxed) {
  MatchPlan plan;
  plan.policy = relaxed ? *relaxed : settings_.policy;
  if (!relaxed && static_cast<int>(s.offered_to.size()) >= plan.policy.max_attempts) {
    return dead_letter(s, dlq_reason::kMaxAttempts);
  }
  const std::set<std::string> offered(s.offered_to.begin(), s.offered_to.end());
  bool busy = false;  // some NGO would be eligible but for its notification cap
  for (const auto& near : directory_.near(s.lat, s.lon, plan.policy.radius_m, settings_.candidates)) {
    const auto why = check_eligibility(*near.ngo, ledger_.load(near.ngo->id), s, near.distance_m, offered, plan.policy);
    if (why) {
      // The cap is checked last: kNotificationCap means every other rule let the NGO through.
      busy = busy || *why == Ineligible::kNotificationCap;
      continue;
    }
    plan.eligible.push_back(near.ngo);
    plan.candidates.push_back(Candidate{near.ngo->id, 0, near.distance_m});
    plan.destinations.push_back(GeoPoint{near.ngo->lat, near.ngo->lon});
  }
  if (plan.eligible.empty()) return busy ? wait(s) : dead_letter(s, dlq_reason::kNoEligibleNgo);
  return plan;
}

Decision Matcher::choose(const Surplus& s, const MatchPlan& plan, const RouteAnswer& times) {
  std::vector<Candidate> ranked = plan.candidates;
  const bool timed = times && times->size() == ranked.size();
  for (size_t i = 0; i < ranked.size(); ++i) ranked[i].travel_seconds = timed ? (*times)[i].seconds : 0;
  rank_candidates(ranked);
  for (const auto& c : ranked) {
    for (const auto& ngo : plan.eligible) {
      if (ngo->id == c.ngo_id && ledger_.try_reserve(*ngo, s.id, s.quantity_kg, plan.policy.max_pending_offers)) {
        return budgeted(offer(s, ngo->id), *ngo, plan.policy.max_pending_offers);
      }
    }
  }
  // Every candidate filled up between the plan and the reservation (or their capacity went): the
  // line, where the next freed slot finds it; a plan without a busy NGO would have dead-lettered it.
  return wait(s);
}

TimePoint Matcher::wait_deadline(const Surplus& s) const {
  return std::min(s.waiting_since.value_or(clock_.now()) + settings_.max_wait, s.expires_at - settings_.pickup_margin);
}

Decision Matcher::wait(const Surplus& s) {
  if (!settings_.wait_in_line) return dead_letter(s, dlq_reason::kNoEligibleNgo);
  const TimePoint now = clock_.now();
  Surplus waiting = s;
  if (!waiting.waiting_since) waiting.waiting_since = now;
  if (now >= wait_deadline(waiting)) return dead_letter(s, dlq_reason::kWaitedTooLong);
  if (s.waiting_since && !s.dead_lettered) return Decision{s, false, nullptr};  // waits already
  waiting.version += 1;
  waiting.offer.reset();
  waiting.dead_lettered = false;
  waiting.dlq_reason.reset();
  waiting.dlq_at.reset();
  if (waits_) waits_->inc();
  return Decision{std::move(waiting), true, event_type::kWaiting};
}

std::optional<Decision> Matcher::offer_if_room(const Surplus& s, const std::string& ngo_id) {
  const auto ngo = directory_.find(ngo_id);
  if (!ngo || static_cast<int>(s.offered_to.size()) >= settings_.policy.max_attempts) return std::nullopt;
  const std::set<std::string> offered(s.offered_to.begin(), s.offered_to.end());
  const double d = haversine_m(s.lat, s.lon, ngo->lat, ngo->lon);
  const auto why = check_eligibility(*ngo, ledger_.load(ngo_id), s, d, offered, settings_.policy);
  if (why && *why != Ineligible::kNotificationCap) return std::nullopt;
  if (!ledger_.try_reserve(*ngo, s.id, s.quantity_kg, settings_.policy.max_pending_offers)) return std::nullopt;
  return budgeted(offer(s, ngo_id), *ngo, settings_.policy.max_pending_offers);
}

Decision Matcher::budgeted(Decision d, const Ngo& ngo, int max_pending) const {
  d.budget =
      OfferBudget{ngo.id, d.after.quantity_kg, max_pending, ngo.capacity_kg, clock_.now() - std::chrono::hours(24)};
  return d;
}

Decision Matcher::offer_to(const Surplus& s, const Ngo& ngo) {
  ledger_.force_reserve(ngo.id, s.id, s.quantity_kg);
  return offer(s, ngo.id);
}

Decision Matcher::offer(const Surplus& s, const std::string& ngo_id) {
  Surplus after = s;
  after.version += 1;
  after.offered_to.push_back(ngo_id);
  after.offer = Offer{ngo_id, clock_.now() + settings_.ack_timeout, static_cast<int>(after.offered_to.size())};
  after.dead_lettered = false;
  after.dlq_reason.reset();
  after.dlq_at.reset();
  after.waiting_since.reset();
  if (offers_) offers_->inc();
  if (rematches_ && after.offered_to.size() > 1) rematches_->inc();
  return Decision{std::move(after), true, event_type::kOffered};
}

Decision Matcher::dead_letter(const Surplus& s, const char* reason) {
  if (s.dead_lettered) return Decision{s, false, nullptr};
  Surplus after = s;
  after.version += 1;
  after.offer.reset();
  after.dead_lettered = true;
  after.dlq_reason = reason;
  after.dlq_at = clock_.now();
  after.waiting_since.reset();
  const std::string why(reason);
  Counter* c = why == dlq_reason::kMaxAttempts     ? dlq_max_attempts_
               : why == dlq_reason::kWaitedTooLong ? dlq_waited_
                                                   : dlq_no_ngo_;
  if (c) c->inc();
  return Decision{std::move(after), true, event_type::kDeadLettered};
}

}  // namespace pahlawan
