// The Store contract (src/ports/store.h), one suite run against every implementation
// (store_harnesses.cc): versions and conflicts, a unit and its events atomic, the uniqueness every
// store enforces, idempotency records, the barrier, outbox order and cursors, reads that see only
// committed data, a full queue refused, the queries the engine relies on, and reopening.
#include <gtest/gtest.h>

#include <algorithm>
#include <condition_variable>
#include <future>
#include <map>
#include <mutex>
#include <set>

#include "store_harness.h"
#include "store_samples.h"

namespace pahlawan::testing {
namespace {

const TimePoint kNow = kSampleNow;

Surplus sample(const std::string& id) {
  return sample_surplus(id);
}
Event event_for(const Surplus& s, const std::string& id, const char* type = event_type::kPosted) {
  return sample_event(s, id, type);
}

SurplusUpdate bump(Surplus s) {
  const int64_t from = s.version;
  s.version = from + 1;
  return SurplusUpdate{std::move(s), from};
}

UnitOfWork posting(const std::string& id) {
  UnitOfWork u;
  u.inserts.push_back(sample(id));
  u.events.push_back(event_for(sample(id), "e-" + id));
  return u;
}

class StoreContract : public ::testing::TestWithParam<StoreImplementation> {
 protected:
  void SetUp() override { h_ = GetParam().make(); }
  Store& store() { return h_->store(); }

  Status commit(UnitOfWork u) {
    std::promise<Status> p;
    auto f = p.get_future();
    store().commit(std::move(u), [&](Status s) { p.set_value(std::move(s)); });
    return f.get();
  }
  std::optional<Surplus> find(const std::string& id) {
    auto r = store().find_surplus(id);
    EXPECT_TRUE(r) << r.status().message();
    return r ? *r : std::nullopt;
  }
  std::vector<std::string> outbox_ids(int64_t after = 0) {
    std::vector<std::string> out;
    auto events = store().read_outbox(after, 100000);  // kept: a range-for over *temporary would dangle
    for (const auto& e : *events) out.push_back(e.id);
    return out;
  }

  std::unique_ptr<StoreHarness> h_;
};

TEST_P(StoreContract, RoundTripsEveryFieldOfAnItem) {
  Surplus s = sample("s1");
  s.offer = Offer{"ngo-1", kNow + std::chrono::minutes(5), 2};
  s.offered_to = {"ngo-0", "ngo-1"};
  s.claimed_at = kNow + std::chrono::seconds(1);
  s.dlq_reason = "no_eligible_ngo";
  s.waiting_since = kNow + std::chrono::seconds(2);
  UnitOfWork u;
  u.inserts.push_back(s);
  ASSERT_TRUE(commit(std::move(u)));
  auto r = find("s1");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->title, s.title);
  EXPECT_EQ(r->cell, s.cell);
  EXPECT_EQ(r->quantity_kg, s.quantity_kg);
  EXPECT_EQ(r->created_at, s.created_at);
  EXPECT_EQ(r->expires_at, s.expires_at);
  ASSERT_TRUE(r->offer);
  EXPECT_EQ(r->offer->ngo_id, "ngo-1");
  EXPECT_EQ(r->offer->deadline, s.offer->deadline);
  EXPECT_EQ(r->offer->attempt, 2);
  EXPECT_EQ(r->offered_to, s.offered_to);
  EXPECT_EQ(r->claimed_at, s.claimed_at);
  EXPECT_EQ(r->dlq_reason, s.dlq_reason);
  EXPECT_EQ(r->waiting_since, s.waiting_since);
  EXPECT_FALSE(find("nope"));
}

TEST_P(StoreContract, AnUpdateNeedsTheCurrentVersion) {
  ASSERT_TRUE(commit(posting("a")));
  Surplus a = *find("a");
  UnitOfWork first;
  first.updates.push_back(bump(a));
  ASSERT_TRUE(commit(std::move(first)));
  UnitOfWork stale;
  stale.updates.push_back(bump(a));  // still expects version 1
  stale.events.push_back(event_for(a, "e-stale", event_type::kClaimed));
  EXPECT_EQ(commit(std::move(stale)).code(), ErrorCode::kConflict);
  EXPECT_EQ(find("a")->version, 2);
  EXPECT_EQ(outbox_ids(), (std::vector<std::string>{"e-a"}));
  // Two updates of one item in a unit apply in order.
  Surplus now = *find("a");
  UnitOfWork twice;
  twice.updates.push_back(bump(now));
  twice.updates.push_back(bump(twice.updates[0].after));
  ASSERT_TRUE(commit(std::move(twice)));
  EXPECT_EQ(find("a")->version, 4);
}

TEST_P(StoreContract, AFailingUnitWritesNothingOfItself) {
  ASSERT_TRUE(commit(posting("a")));
  Surplus a = *find("a");
  UnitOfWork u = posting("b");  // a new item and its event ...
  u.idempotency = IdempotencyRecord{"p1", "k-b", "h", "b", kNow};
  u.meta.emplace_back("m", "v");
  SurplusUpdate stale = bump(a);
  stale.expected_version = 7;  // ... in a unit whose update is stale
  u.updates.push_back(stale);
  EXPECT_EQ(commit(std::move(u)).code(), ErrorCode::kConflict);
  EXPECT_FALSE(find("b"));
  EXPECT_FALSE(store().find_idempotency("p1", "k-b")->has_value());
  EXPECT_FALSE(store().get_meta("m")->has_value());
  EXPECT_EQ(outbox_ids(), (std::vector<std::string>{"e-a"}));
  EXPECT_EQ(*store().last_outbox_seq(), 1);
}

TEST_P(StoreContract, AStaleUnitFailsAloneAmongManySubmittedTogether) {
  ASSERT_TRUE(commit(posting("a")));
  ASSERT_TRUE(commit(posting("b")));
  // Submitted without waiting, so a store that batches commits puts them in one transaction.
  std::vector<std::promise<Status>> results(50);
  Surplus a = *find("a");
  for (int i = 0; i < 50; ++i) {
    UnitOfWork u;
    if (i == 25) {
      Surplus b = *find("b");
      SurplusUpdate up = bump(b);
      up.expected_version = 7;
      u.updates.push_back(up);
    } else {
      u.updates.push_back(bump(a));
      a = u.updates.back().after;
    }
    u.events.push_back(event_for(a, "ev-" + std::to_string(i), event_type::kOffered));
    store().commit(std::move(u), [&results, i](Status s) { results[i].set_value(std::move(s)); });
  }
  for (int i = 0; i < 50; ++i) {
    Status s = results[i].get_future().get();
    if (i == 25) {
      EXPECT_EQ(s.code(), ErrorCode::kConflict);
    } else {
      EXPECT_TRUE(s) << i << ": " << s.message();
    }
  }
  EXPECT_EQ(find("a")->version, 50);
  EXPECT_EQ(find("b")->version, 1);
  auto ids = outbox_ids();
  ASSERT_EQ(ids.size(), 2u + 49u);
  EXPECT_EQ(std::count(ids.begin(), ids.end(), "ev-25"), 0);
}

TEST_P(StoreContract, EveryIdAndTokenHashIsUnique) {
  UnitOfWork setup = posting("a");
  setup.provider = std::make_pair(Provider{"p1", "Warung", -6.2, 106.8, kNow}, std::string("hash-p1"));
  setup.ngo = UnitOfWork::NgoInsert{
      Ngo{"n1", "Panti", -6.2, 106.8, NgoKind::kNgo, {}, std::nullopt, std::nullopt, kNow}, "hash-n1", std::nullopt};
  setup.idempotency = IdempotencyRecord{"p1", "k", "h", "a", kNow};
  ASSERT_TRUE(commit(std::move(setup)));

  std::map<std::string, UnitOfWork> refused;
  refused["item id"] = posting("a");
  refused["item id"].events[0].id = "e-other";
  refused["event id"] = posting("c");
  refused["event id"].events[0].id = "e-a";
  refused["idempotency key"].idempotency = IdempotencyRecord{"p1", "k", "h", "x", kNow};
  refused["provider id"].provider = std::make_pair(Provider{"p1", "Other", 0, 0, kNow}, std::string("hash-p9"));
  refused["provider token"].provider = std::make_pair(Provider{"p2", "Other", 0, 0, kNow}, std::string("hash-p1"));
  refused["ngo id"].ngo = UnitOfWork::NgoInsert{
      Ngo{"n1", "Other", 0, 0, NgoKind::kNgo, {}, std::nullopt, std::nullopt, kNow}, "hash-n9", std::nullopt};
  refused["ngo token"].ngo = UnitOfWork::NgoInsert{
      Ngo{"n2", "Other", 0, 0, NgoKind::kNgo, {}, std::nullopt, std::nullopt, kNow}, "hash-n1", std::nullopt};
  for (auto& [what, unit] : refused) {
    unit.meta.emplace_back("written", what);
    const Status s = commit(std::move(unit));
    EXPECT_EQ(s.code(), ErrorCode::kConflict) << "a duplicate " << what << " was accepted";
    for (const char* leak : {"UNIQUE", "constraint", "sqlite", "SQL"}) {
      EXPECT_EQ(s.message().find(leak), std::string::npos) << s.message();
    }
  }
  EXPECT_FALSE(store().get_meta("written")->has_value());
  EXPECT_FALSE(find("c"));
  EXPECT_EQ(store().load_credentials()->size(), 2u);
  EXPECT_EQ((*store().find_provider("p1"))->name, "Warung");
  EXPECT_EQ((*store().find_idempotency("p1", "k"))->surplus_id, "a");
}

TEST_P(StoreContract, ATokenUpdateReplacesTheCredential) {
  UnitOfWork setup;
  setup.provider = std::make_pair(Provider{"p1", "Warung", -6.2, 106.8, kNow}, std::string("old"));
  ASSERT_TRUE(commit(std::move(setup)));
  UnitOfWork rotate;
  rotate.token = UnitOfWork::TokenUpdate{Principal{Role::kProvider, "p1"}, "new"};
  ASSERT_TRUE(commit(std::move(rotate)));
  auto creds = *store().load_credentials();
  ASSERT_EQ(creds.size(), 1u);
  EXPECT_EQ(creds[0].token_hash, "new");
  EXPECT_EQ(creds[0].principal.id, "p1");
  // One party's credential, by role and id: what another process reads when it learns of a rotation.
  auto one = *store().find_credential(Role::kProvider, "p1");
  ASSERT_TRUE(one);
  EXPECT_EQ(one->token_hash, "new");
  EXPECT_FALSE(*store().find_credential(Role::kNgo, "p1"));  // the role is part of the key
  EXPECT_FALSE(*store().find_credential(Role::kProvider, "nobody"));
}

TEST_P(StoreContract, IdempotencyRecordsAreKeptPerProviderAndKey) {
  UnitOfWork u = posting("a");
  u.idempotency = IdempotencyRecord{"p1", "k", "hash-of-body", "a", kNow};
  ASSERT_TRUE(commit(std::move(u)));
  auto r = *store().find_idempotency("p1", "k");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->surplus_id, "a");
  EXPECT_EQ(r->body_hash, "hash-of-body");
  EXPECT_EQ(r->created_at, kNow);
  EXPECT_FALSE(store().find_idempotency("p2", "k")->has_value());
  UnitOfWork other = posting("b");
  other.idempotency = IdempotencyRecord{"p2", "k", "h", "b", kNow};  // another provider's same key
  EXPECT_TRUE(commit(std::move(other)));
}

TEST_P(StoreContract, ABarrierIsAnsweredAfterEveryUnitBeforeIt) {
  std::mutex mu;
  std::vector<int> order;
  std::promise<void> barrier_done;
  for (int i = 0; i < 20; ++i) {
    store().commit(posting("s" + std::to_string(i)), [&, i](Status s) {
      EXPECT_TRUE(s);
      std::lock_guard lock(mu);
      order.push_back(i);
    });
  }
  store().commit(UnitOfWork{}, [&](Status s) {
    EXPECT_TRUE(s);
    {
      std::lock_guard lock(mu);
      order.push_back(-1);
    }
    barrier_done.set_value();
  });
  barrier_done.get_future().get();
  std::lock_guard lock(mu);
  ASSERT_EQ(order.size(), 21u);
  EXPECT_EQ(order.back(), -1) << "the barrier was answered before a unit submitted ahead of it";
}

TEST_P(StoreContract, TheOutboxIsInCommitOrderPagedAndAnnounced) {
  std::mutex mu;
  int announced = 0;
  store().on_events_committed([&] {
    std::lock_guard lock(mu);
    ++announced;
  });
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(commit(posting("s" + std::to_string(i))));
  UnitOfWork no_events;
  no_events.meta.emplace_back("k", "v");
  ASSERT_TRUE(commit(std::move(no_events)));
  auto all = *store().read_outbox(0, 100);
  ASSERT_EQ(all.size(), 10u);
  for (size_t i = 0; i < all.size(); ++i) {
    EXPECT_EQ(all[i].id, "e-s" + std::to_string(i));
    if (i > 0) {
      EXPECT_GT(all[i].seq, all[i - 1].seq);
    }
    EXPECT_EQ(all[i].data_json, "{\"n\":1}");
    EXPECT_EQ(all[i].traceparent, "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01");
  }
  EXPECT_EQ(*store().last_outbox_seq(), all.back().seq);
  auto page = *store().read_outbox(all[3].seq, 4);
  ASSERT_EQ(page.size(), 4u);
  EXPECT_EQ(page.front().id, "e-s4");
  EXPECT_EQ(page.back().id, "e-s7");
  EXPECT_TRUE(store().read_outbox(all.back().seq, 10)->empty());
  std::lock_guard lock(mu);
  EXPECT_GE(announced, 1);
}

TEST_P(StoreContract, OutboxRetentionWaitsForTheNamedConsumersOnly) {
  for (int i = 1; i <= 6; ++i) ASSERT_TRUE(commit(posting("r" + std::to_string(i))));
  auto events = store().read_outbox(0, 100);
  ASSERT_TRUE(events);
  ASSERT_EQ(events->size(), 6u);
  auto cursor = [&](const char* name, int64_t seq) {
    UnitOfWork u;
    u.cursor = std::make_pair(std::string(name), seq);
    ASSERT_TRUE(commit(std::move(u)));
  };
  cursor("relay", (*events)[3].seq);
  cursor("webhooks", (*events)[1].seq);  // left behind, say by an earlier configuration
  auto prune = [&](std::vector<std::string> consumers) {
    UnitOfWork u;
    u.prune = UnitOfWork::Prune{kNow, kNow + std::chrono::hours(1), 100, std::move(consumers)};
    EXPECT_TRUE(commit(std::move(u)));
    return outbox_ids();
  };
  EXPECT_EQ(prune({"relay", "nats"}).size(), 6u) << "a named cursor not yet saved counts as 0";
  EXPECT_EQ(prune({}), (std::vector<std::string>{"e-r3", "e-r4", "e-r5", "e-r6"})) << "every cursor counts";
  EXPECT_EQ(prune({"relay"}), (std::vector<std::string>{"e-r5", "e-r6"})) << "only the relay's counts";
}

TEST_P(StoreContract, CursorsStartAtZeroAndOnlyMoveForward) {
  EXPECT_EQ(*store().load_cursor("relay"), 0);
  for (int64_t seq : {5, 9, 3}) {
    UnitOfWork u;
    u.cursor = std::make_pair(std::string("relay"), seq);
    ASSERT_TRUE(commit(std::move(u)));
  }
  EXPECT_EQ(*store().load_cursor("relay"), 9);
  EXPECT_EQ(*store().load_cursor("webhooks"), 0);
}

TEST_P(StoreContract, OffersAndDeadLettersAreFoundByIndex) {
  Surplus offered = sample("o1");
  offered.offer = Offer{"n1", kNow + std::chrono::minutes(5), 1};
  Surplus other = sample("o2");
  other.offer = Offer{"n2", kNow + std::chrono::minutes(5), 1};
  UnitOfWork u;
  u.inserts = {offered, other};
  for (int i = 0; i < 5; ++i) {
    Surplus d = sample("d" + std::to_string(i));
    d.dead_lettered = true;
    d.dlq_reason = "no_eligible_ngo";
    d.dlq_at = kNow + std::chrono::seconds(i < 2 ? 1 : i);  // d0 and d1 share a time: ordered by id
    u.inserts.push_back(d);
  }
  Surplus claimed = sample("c1");
  claimed.status = SurplusStatus::kClaimed;
  claimed.claimed_by = "n1";
  claimed.claimed_at = kNow;
  u.inserts.push_back(claimed);
  ASSERT_TRUE(commit(std::move(u)));

  auto offers = *store().find_offers_for("n1");
  ASSERT_EQ(offers.size(), 1u);
  EXPECT_EQ(offers[0].id, "o1");
  auto first = *store().find_dead_letters(std::nullopt, 3);
  ASSERT_EQ(first.size(), 3u);
  EXPECT_EQ(first[0].id, "d0");
  EXPECT_EQ(first[1].id, "d1");
  EXPECT_EQ(first[2].id, "d2");
  auto next = *store().find_dead_letters(Store::DlqPosition{*first.back().dlq_at, first.back().id}, 3);
  ASSERT_EQ(next.size(), 2u);
  EXPECT_EQ(next[0].id, "d3");
  EXPECT_EQ(next[1].id, "d4");
  EXPECT_EQ(store().find_claimed_since(kNow)->size(), 1u);
  EXPECT_TRUE(store().find_claimed_since(kNow + std::chrono::seconds(1))->empty());
  EXPECT_EQ(store().load_open_surplus()->size(), 8u);
}

TEST_P(StoreContract, AvailableItemsAreFoundNearestFirstWithinTheRadius) {
  // Items due north of the centre, 50 m + 100 m × i away, inserted farthest first.
  const double lat0 = -6.2, lon0 = 106.8;
  UnitOfWork u;
  for (int i = 7; i >= 0; --i) {
    Surplus s = sample("s" + std::to_string(i));
    s.lat = lat0 + (50.0 + 100.0 * i) / 111195.0;
    s.lon = lon0;
    s.cell = cell_id_at(s.lat, s.lon, 13);
    if (i == 2) s.category = "prepared_meal";
    if (i == 4) s.status = SurplusStatus::kClaimed;
    if (i == 5) s.expires_at = kNow;  // expired by `now`
    u.inserts.push_back(s);
  }
  ASSERT_TRUE(commit(std::move(u)));
  auto near = [&](double radius_m, int limit, TimePoint created_before = kNow + std::chrono::seconds(1),
                  std::optional<std::string> category = std::nullopt) {
    const Store::BrowseArea area{lat0, lon0, radius_m, covering_ranges(lat0, lon0, radius_m, 13)};
    auto r = store().find_available_near(area, created_before, kNow, category, limit);
    EXPECT_TRUE(r) << r.status().message();
    std::vector<std::string> ids;
    for (const auto& s : *r) ids.push_back(s.id);
    return ids;
  };
  EXPECT_EQ(near(700, 10), (std::vector<std::string>{"s0", "s1", "s2", "s3", "s6"}))
      << "nearest first; claimed, expired and farther than the radius (s7, 750 m) left out";
  EXPECT_EQ(near(700, 2), (std::vector<std::string>{"s0", "s1"})) << "the nearest `limit`";
  EXPECT_EQ(near(100, 10), (std::vector<std::string>{"s0"}));
  EXPECT_EQ(near(700, 10, kNow + std::chrono::seconds(1), "prepared_meal"), (std::vector<std::string>{"s2"}));
  EXPECT_TRUE(near(700, 10, kNow).empty()) << "created_before is exclusive";
}

TEST_P(StoreContract, APartitionsOpenItemsAreLoadedAloneForTheReplicaThatGainsIt) {
  // Two partitions side by side (Jakarta and Bandung), items open and closed in each.
  const uint64_t jakarta = cell_id_at(-6.2, 106.8, 13), bandung = cell_id_at(-6.9, 107.6, 13);
  ASSERT_NE(partition_of_cell(jakarta), partition_of_cell(bandung));
  UnitOfWork u;
  for (int i = 0; i < 6; ++i) {
    Surplus s = sample("p" + std::to_string(i));
    s.lat = i % 2 ? -6.9 : -6.2;
    s.lon = i % 2 ? 107.6 : 106.8;
    s.cell = i % 2 ? bandung : jakarta;
    if (i == 2) s.status = SurplusStatus::kClaimed;
    if (i == 4) s.status = SurplusStatus::kCancelled;
    u.inserts.push_back(s);
  }
  ASSERT_TRUE(commit(std::move(u)));
  auto ids_in = [&](uint64_t cell) {
    const int64_t p = partition_of_cell(cell);
    auto r = store().load_open_surplus_in(cells_of_partition(p), region_of_partition(p));
    EXPECT_TRUE(r) << r.status().message();
    std::vector<std::string> ids;
    for (const auto& s : *r) ids.push_back(s.id);
    std::sort(ids.begin(), ids.end());
    return ids;
  };
  EXPECT_EQ(ids_in(jakarta), (std::vector<std::string>{"p0", "p2"})) << "open ones only: p4 was cancelled";
  EXPECT_EQ(ids_in(bandung), (std::vector<std::string>{"p1", "p3", "p5"}));
}

TEST_P(StoreContract, ReadsSeeOnlyCommittedData) {
  ASSERT_TRUE(commit(posting("a")));
  Surplus a = *find("a");
  h_->pause_next_commit();
  std::promise<Status> done;
  UnitOfWork u = posting("b");
  u.updates.push_back(bump(a));
  store().commit(std::move(u), [&](Status s) { done.set_value(std::move(s)); });
  h_->wait_paused();
  // The unit stands inside its commit: none of it may be seen yet.
  EXPECT_FALSE(find("b"));
  EXPECT_EQ(find("a")->version, 1);
  EXPECT_EQ(outbox_ids(), (std::vector<std::string>{"e-a"}));
  h_->resume();
  EXPECT_TRUE(done.get_future().get());
  EXPECT_TRUE(find("b"));
  EXPECT_EQ(find("a")->version, 2);
}

TEST_P(StoreContract, AFullQueueIsRefusedAtOnceAndWritesNothing) {
  constexpr size_t kLimit = 3;
  h_->open_with_queue_limit(kLimit);
  h_->pause_next_commit();
  std::mutex mu;
  std::condition_variable answered;
  std::map<int, Status> answers;
  auto submit = [&](int i) {
    store().commit(posting("s" + std::to_string(i)), [&, i](Status s) {
      std::lock_guard lock(mu);
      answers[i] = std::move(s);
      answered.notify_all();
    });
  };
  submit(0);
  h_->wait_paused();
  for (int i = 1; i <= static_cast<int>(kLimit) + 1; ++i) submit(i);
  std::set<int> refused;
  {
    std::lock_guard lock(mu);
    for (const auto& [i, s] : answers) {
      EXPECT_EQ(s.code(), ErrorCode::kUnavailable) << "answered while the queue was paused: " << i;
      refused.insert(i);
    }
  }
  EXPECT_FALSE(refused.empty()) << "more than the queue holds was queued";
  h_->resume();
  {
    std::unique_lock lock(mu);
    ASSERT_TRUE(answered.wait_for(lock, std::chrono::seconds(30), [&] { return answers.size() == kLimit + 2; }))
        << "an accepted unit was never answered";
  }
  std::lock_guard lock(mu);
  for (const auto& [i, s] : answers) {
    if (refused.count(i)) {
      EXPECT_FALSE(find("s" + std::to_string(i))) << i;
    } else {
      EXPECT_TRUE(s) << i << ": " << s.message();
      EXPECT_TRUE(find("s" + std::to_string(i))) << i;
    }
  }
}

TEST_P(StoreContract, ReopeningKeepsEverythingCommitted) {
  UnitOfWork u = posting("a");
  u.provider = std::make_pair(Provider{"p1", "Warung", -6.2, 106.8, kNow}, std::string("hash-p1"));
  u.ngo = UnitOfWork::NgoInsert{
      Ngo{"n1", "Panti", -6.21, 106.81, NgoKind::kFoodBank, {"bakery", "produce"}, 50.0, "https://x.example/h", kNow},
      "hash-n1", std::string("secret")};
  u.idempotency = IdempotencyRecord{"p1", "k", "h", "a", kNow};
  u.meta.emplace_back("admin_token_hash", "abc");
  u.cursor = std::make_pair(std::string("relay"), 1);
  ASSERT_TRUE(commit(std::move(u)));
  Surplus a = *find("a");
  UnitOfWork claim;
  SurplusUpdate up = bump(a);
  up.after.status = SurplusStatus::kClaimed;
  up.after.claimed_by = "n1";
  up.after.claimed_at = kNow;
  claim.updates.push_back(up);
  claim.events.push_back(event_for(up.after, "e-claim", event_type::kClaimed));
  ASSERT_TRUE(commit(std::move(claim)));

  h_->reopen();

  auto r = find("a");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->version, 2);
  EXPECT_EQ(r->status, SurplusStatus::kClaimed);
  EXPECT_EQ(r->claimed_by, "n1");
  EXPECT_EQ((*store().find_provider("p1"))->name, "Warung");
  auto ngo = *store().find_ngo("n1");
  ASSERT_TRUE(ngo);
  EXPECT_EQ(ngo->categories, (std::vector<std::string>{"bakery", "produce"}));
  EXPECT_EQ(ngo->kind, NgoKind::kFoodBank);
  EXPECT_EQ(ngo->capacity_kg, 50.0);
  EXPECT_EQ(ngo->webhook_url, "https://x.example/h");
  EXPECT_EQ(store().load_ngos()->size(), 1u);
  EXPECT_EQ(store().load_credentials()->size(), 2u);
  EXPECT_EQ((*store().find_idempotency("p1", "k"))->surplus_id, "a");
  EXPECT_EQ(*store().get_meta("admin_token_hash"), "abc");
  EXPECT_EQ(*store().load_cursor("relay"), 1);
  EXPECT_EQ(outbox_ids(), (std::vector<std::string>{"e-a", "e-claim"}));
  EXPECT_EQ(store().load_open_surplus()->size(), 1u);
  // Sequence numbers go on after a reopen; they are never reused.
  const int64_t last = *store().last_outbox_seq();
  ASSERT_TRUE(commit(posting("b")));
  EXPECT_GT(*store().last_outbox_seq(), last);
}

INSTANTIATE_TEST_SUITE_P(Every, StoreContract, ::testing::ValuesIn(store_implementations()),
                         [](const auto& info) { return info.param.name; });

}  // namespace
}  // namespace pahlawan::testing
