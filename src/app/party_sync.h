// PartySync: the bus subscriber that teaches this process the parties other processes registered or
// whose tokens they replaced. On each admin.* event it reads the party's current credential (and, for
// a new NGO, the NGO) from the store — the store has the last word, so events applied late, twice or
// out of order leave the same state — and hands them to the authenticator and the NGO directory. In
// one process the registry has done so already and this changes nothing; with several processes
// (issues 10 and 11) it is how a token issued or revoked through one works on every other.
// Runs on the relay's thread.
#pragma once

#include <functional>
#include <string>

#include "app/authenticator.h"
#include "ports/event_bus.h"
#include "ports/ngo_directory.h"
#include "ports/store.h"

namespace pahlawan {

class PartySync final : public EventSubscriber {
 public:
  // directory: may be null (no matching). ngo_added: called once for an NGO new to the directory.
  PartySync(Store& store, Authenticator& auth, NgoDirectory* directory,
            std::function<void(const std::string& ngo_id)> ngo_added = {})
      : store_(store), auth_(auth), directory_(directory), ngo_added_(std::move(ngo_added)) {}
  void on_event(const Event& event) override;

 private:
  Store& store_;
  Authenticator& auth_;
  NgoDirectory* directory_;
  std::function<void(const std::string&)> ngo_added_;
};

}  // namespace pahlawan
