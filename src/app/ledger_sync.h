// LedgerSync: several replicas (docs/replicas.md). Each replica's NgoLedger is a cache of what the
// platform promised each NGO; the offers and claims other replicas made reach it through their
// surplus.* events (every replica's own relay reads every event). On each, the item's reservation
// and claim are set to what the event's state says, as the shard actor does after reloading an
// item: applied twice or late, an event leaves what its successors set. The store checks every
// offer against every replica's offers in the commit (UnitOfWork::budget); this keeps a replica
// from choosing NGOs the store would refuse. Runs on the relay's thread.
#pragma once

#include "engine/ngo_ledger.h"
#include "ports/event_bus.h"

namespace pahlawan {

class LedgerSync final : public EventSubscriber {
 public:
  explicit LedgerSync(NgoLedger& ledger) : ledger_(ledger) {}
  void on_event(const Event& event) override;

 private:
  NgoLedger& ledger_;
};

}  // namespace pahlawan
