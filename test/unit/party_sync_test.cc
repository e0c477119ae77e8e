// PartySync: parties registered, and tokens replaced, by another process (here: units committed
// straight into the store, with their admin.* events) become known to this one's authenticator and
// NGO directory when the events arrive — in any order, any number of times.
#include "app/party_sync.h"

#include <gtest/gtest.h>

#include "adapters/crypto/openssl_secrets.h"
#include "adapters/geo/s2_ngo_directory.h"
#include "app/json_render.h"
#include "domain/event.h"
#include "fake_clock.h"
#include "in_memory_store.h"

namespace pahlawan {
namespace {

class PartySyncTest : public ::testing::Test {
 protected:
  PartySyncTest()
      : auth(secrets, secrets.hash("admin-token-0123456789")),
        sync(store, auth, &directory, [this](const std::string& id) { added.push_back(id); }) {}

  // What another process's registry commits; returns the event as the relay would deliver it.
  Event commit(UnitOfWork u, const char* type, const char* kind, const std::string& id) {
    u.events.push_back(Event{"ev-" + std::to_string(++n), type, "", clock.now(), "", render_audit(kind, id)});
    std::optional<Status> done;
    store.commit(std::move(u), [&](Status s) { done = s; });
    EXPECT_TRUE(done && done->is_ok());
    auto events = *store.read_outbox(seen, 10);
    EXPECT_EQ(events.size(), 1u);
    seen = events.back().seq;
    return events.back();
  }
  Event register_ngo(const std::string& id, const std::string& token) {
    UnitOfWork u;
    u.ngo =
        UnitOfWork::NgoInsert{Ngo{id, "Panti", -6.2, 106.8, NgoKind::kNgo, {}, std::nullopt, std::nullopt, clock.now()},
                              secrets.hash(token), std::nullopt};
    return commit(std::move(u), event_type::kNgoRegistered, "ngo", id);
  }
  Event replace_token(Role role, const std::string& id, const std::string& token, const char* type) {
    UnitOfWork u;
    u.token = UnitOfWork::TokenUpdate{Principal{role, id}, secrets.hash(token)};
    return commit(std::move(u), type, role == Role::kNgo ? "ngo" : "provider", id);
  }
  bool works(const std::string& token) { return auth.authenticate("Bearer " + token).is_ok(); }

  testing::FakeClock clock;
  testing::InMemoryStore store;
  OpenSslSecrets secrets;
  Authenticator auth;
  S2NgoDirectory directory;
  PartySync sync;
  std::vector<std::string> added;
  int n = 0;
  int64_t seen = 0;
};

TEST_F(PartySyncTest, AnNgoRegisteredElsewhereCanSignInAndBeMatched) {
  const Event e = register_ngo("ngo-1", "pp_ngo_one");
  EXPECT_FALSE(works("pp_ngo_one"));  // not yet: this process has not seen the event
  EXPECT_FALSE(directory.find("ngo-1"));
  sync.on_event(e);
  EXPECT_TRUE(works("pp_ngo_one"));
  ASSERT_TRUE(directory.find("ngo-1"));
  EXPECT_EQ(added, std::vector<std::string>{"ngo-1"});
  sync.on_event(e);  // delivered again (a relay restart): nothing more happens
  EXPECT_EQ(added.size(), 1u);
}

TEST_F(PartySyncTest, ARotationOrRevocationElsewhereEndsTheOldTokenHereAtOnce) {
  sync.on_event(register_ngo("ngo-1", "pp_ngo_old"));
  ASSERT_TRUE(works("pp_ngo_old"));
  sync.on_event(replace_token(Role::kNgo, "ngo-1", "pp_ngo_new", event_type::kTokenRotated));
  EXPECT_FALSE(works("pp_ngo_old"));
  EXPECT_TRUE(works("pp_ngo_new"));
  sync.on_event(replace_token(Role::kNgo, "ngo-1", "nobody-was-shown-this", event_type::kTokenRevoked));
  EXPECT_FALSE(works("pp_ngo_new"));
}

TEST_F(PartySyncTest, EventsAppliedLateOrOutOfOrderLeaveTheStoresWord) {
  UnitOfWork u;
  u.provider = std::make_pair(Provider{"p-1", "Warung", -6.2, 106.8, clock.now()}, secrets.hash("pp_prov_first"));
  const Event registered = commit(std::move(u), event_type::kProviderRegistered, "provider", "p-1");
  const Event rotated = replace_token(Role::kProvider, "p-1", "pp_prov_second", event_type::kTokenRotated);
  sync.on_event(rotated);
  sync.on_event(registered);  // the older event, late: the store says the second token
  EXPECT_FALSE(works("pp_prov_first"));
  EXPECT_TRUE(works("pp_prov_second"));
  EXPECT_TRUE(added.empty());  // a provider is no NGO
}

TEST_F(PartySyncTest, OtherEventsAndBadPayloadsAreIgnored) {
  sync.on_event(Event{"e1", event_type::kPosted, "s-1", clock.now(), "", "{}"});
  sync.on_event(Event{"e2", event_type::kNgoRegistered, "", clock.now(), "", "not json"});
  sync.on_event(Event{"e3", event_type::kNgoRegistered, "", clock.now(), "", R"({"party":"ngo","party_id":"ghost"})"});
  EXPECT_TRUE(added.empty());
  EXPECT_FALSE(directory.find("ghost"));
}

}  // namespace
}  // namespace pahlawan
