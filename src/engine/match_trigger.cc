#include "engine/match_trigger.h"

#include <string_view>

namespace pahlawan {

void MatchTrigger::on_event(const Event& event) {
  if (std::string_view(event.type) != event_type::kPosted) return;
  auto cell = router_.locate(event.surplus_id);
  if (!cell || !*cell) return;  // gone meanwhile: nothing to match
  router_.actor_for_cell(**cell)->match(event.surplus_id, true, event.traceparent);
}

}  // namespace pahlawan
