// MatchTrigger: the bus subscriber that starts matching. On `surplus.posted` it asks the item's
// shard actor to make the first offer. Idempotent: an item already offered (a replay after restart)
// is left alone by the actor. Runs on the relay thread; it only posts to mailboxes.
#pragma once

#include "engine/shard_router.h"
#include "ports/event_bus.h"

namespace pahlawan {

class MatchTrigger final : public EventSubscriber {
 public:
  explicit MatchTrigger(ShardRouter& router) : router_(router) {}
  void on_event(const Event& event) override;

 private:
  ShardRouter& router_;
};

}  // namespace pahlawan
