// The SQLite store against a real database file in a temporary directory: what is particular to it
// (the relay and journal on top of it, retention, cell-range reads of real geography). The Store
// contract itself is test/contract/store_contract_test.cc, run against every implementation.
#include "adapters/sqlite/sqlite_store.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <future>
#include <map>
#include <set>

#include "adapters/bus/in_process_bus.h"
#include "adapters/journal/file_event_journal.h"
#include "adapters/sqlite/sqlite_db.h"
#include "engine/outbox_relay.h"
#include "engine/retention_sweeper.h"
#include "fake_clock.h"
#include "store_samples.h"

namespace pahlawan {
namespace {

const TimePoint kNow = testing::kSampleNow;

class TempDir {
 public:
  TempDir() {
    char tmpl[] = "/tmp/pahlawan-test-XXXXXX";
    path_ = mkdtemp(tmpl);
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  std::string file(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

Surplus sample(const std::string& id) {
  return testing::sample_surplus(id);
}
Event event_for(const Surplus& s, const std::string& id, const char* type = event_type::kPosted) {
  return testing::sample_event(s, id, type);
}

Status commit_sync(Store& store, UnitOfWork u) {
  std::promise<Status> p;
  auto f = p.get_future();
  store.commit(std::move(u), [&](Status s) { p.set_value(s); });
  return f.get();
}

std::unique_ptr<SqliteStore> open_store(const TempDir& dir) {
  auto s = SqliteStore::open(SqliteStoreOptions{dir.file("p.db")}, nullptr);
  EXPECT_TRUE(s) << s.status().message();
  return std::move(*s);
}

// Commits items s<first>..s<last-1>, each with its posted event e<i>, one unit each.
void post_items(Store& store, int first, int last) {
  for (int i = first; i < last; ++i) {
    UnitOfWork u;
    u.inserts.push_back(sample("s" + std::to_string(i)));
    u.events.push_back(event_for(sample("s" + std::to_string(i)), "e" + std::to_string(i)));
    ASSERT_TRUE(commit_sync(store, std::move(u)));
  }
}

// A subscriber whose effect is a count per event id: any duplicate shows.
class CountingSubscriber final : public EventSubscriber {
 public:
  void on_event(const Event& e) override { ++seen[e.id]; }
  std::map<std::string, int> seen;
};

TEST(OutboxRelay, DeliversInOrderAndResumesAfterRestartWithoutLossOrDuplicateEffects) {
  TempDir dir;
  const std::string journal_path = dir.file("events.jsonl");
  {
    auto store = open_store(dir);
    post_items(*store, 0, 10);
    InProcessBus bus;
    auto journal = FileEventJournal::open(journal_path);
    ASSERT_TRUE(journal);
    bus.subscribe(**journal);
    OutboxRelay relay(*store, bus, "relay", 4);
    ASSERT_TRUE(relay.start());
    relay.stop();  // drains everything committed
    EXPECT_EQ(relay.position(), 10);
  }
  {
    auto store = open_store(dir);
    // Simulate a crash that lost the last cursor saves: the relay will replay from seq 3.
    post_items(*store, 10, 11);
    InProcessBus bus;
    auto journal = FileEventJournal::open(journal_path);
    ASSERT_TRUE(journal);
    EXPECT_EQ((*journal)->last_seq(), 10);
    CountingSubscriber counter;
    bus.subscribe(**journal);
    bus.subscribe(counter);
    OutboxRelay replaying(*store, bus, "replayer", 4);  // a fresh consumer starts from 0
    ASSERT_TRUE(replaying.start());
    replaying.stop();
    EXPECT_EQ(counter.seen.size(), 11u);
    for (const auto& [id, n] : counter.seen) EXPECT_EQ(n, 1) << id;
  }
  // The journal holds each event exactly once although 10 of them were handed to it twice.
  std::ifstream in(journal_path);
  std::string line;
  int lines = 0;
  while (std::getline(in, line)) ++lines;
  EXPECT_EQ(lines, 11);
}

TEST(OutboxRelay, SavesItsPositionEverySoManyEventsAndAtStop) {
  TempDir dir;
  auto store = open_store(dir);
  post_items(*store, 0, 10);
  InProcessBus bus;
  CountingSubscriber counter;
  bus.subscribe(counter);
  OutboxRelay relay(*store, bus, "relay", 3, 5);  // batches of 3, save every 5 events
  for (int i = 0; i < 4; ++i) ASSERT_TRUE(relay.run_once());
  ASSERT_TRUE(commit_sync(*store, UnitOfWork{}));  // barrier: earlier saves are decided
  EXPECT_EQ(relay.position(), 10);
  EXPECT_EQ(*store->load_cursor("relay"), 6);  // saved at 6 (6 - 0 >= 5); 9 and 10 not yet
  relay.stop();                                // never started: stop still saves the position
  ASSERT_TRUE(commit_sync(*store, UnitOfWork{}));
  EXPECT_EQ(*store->load_cursor("relay"), 10);
  EXPECT_EQ(counter.seen.size(), 10u);
}

TEST(FileEventJournal, DropsATornLastLine) {
  TempDir dir;
  const std::string path = dir.file("events.jsonl");
  {
    std::ofstream out(path);
    out << "{\"seq\":1,\"event\":{}}\n{\"seq\":2,\"ev";
  }
  auto j = FileEventJournal::open(path);
  ASSERT_TRUE(j);
  EXPECT_EQ((*j)->last_seq(), 1);
  Event e{"e2", "surplus.posted", "s", kNow, "", "{}", 2};
  (*j)->on_event(e);
  j->reset();
  std::ifstream in(path);
  std::string l1, l2, l3;
  std::getline(in, l1);
  std::getline(in, l2);
  EXPECT_EQ(l1, "{\"seq\":1,\"event\":{}}");
  EXPECT_EQ(l2.rfind("{\"seq\":2,\"event\":{\"id\":\"e2\"", 0), 0u);
  EXPECT_FALSE(std::getline(in, l3));
}

}  // namespace
}  // namespace pahlawan

namespace pahlawan {
namespace {

// A week of posting (200 keyed posts an hour), with the relay delivering, the journal rotating and
// the sweeper running hourly on a simulated clock: the outbox, the idempotency table and the journal
// stay bounded by their retention, not by the week.
TEST(Retention, AWeekOfPostingKeepsOutboxIdempotencyAndJournalBounded) {
  TempDir dir;
  auto store = open_store(dir);
  testing::FakeClock clock(kNow);
  InProcessBus bus;
  JournalOptions jopts;
  jopts.max_bytes = 256 << 10;
  jopts.keep = 2;
  auto journal = FileEventJournal::open(dir.file("events.jsonl"), jopts);
  ASSERT_TRUE(journal);
  bus.subscribe(**journal);
  OutboxRelay relay(*store, bus, "relay", 512, 256);
  RetentionSweeper sweeper(*store, clock, RetentionOptions{});
  constexpr int kPerHour = 200;
  int64_t next = 0;
  auto count = [&](const char* table) {
    auto db = SqliteDb::open(dir.file("p.db"), true);
    auto st = (*db)->prepare((std::string("SELECT count(*) FROM ") + table).c_str());
    EXPECT_TRUE(*(*st)->step());
    return (*st)->int64(0);
  };
  int64_t peak_outbox = 0, peak_idempotency = 0;
  for (int hour = 0; hour < 24 * 7; ++hour) {
    for (int i = 0; i < kPerHour; ++i, ++next) {
      Surplus s = sample("w" + std::to_string(next));
      s.created_at = clock.now();
      UnitOfWork u;
      u.inserts.push_back(s);
      Event e = event_for(s, "we" + std::to_string(next));
      e.occurred_at = clock.now();
      u.events.push_back(e);
      u.idempotency = IdempotencyRecord{"p1", "key-" + std::to_string(next), "h", s.id, clock.now()};
      store->commit(std::move(u), [](Status st) { ASSERT_TRUE(st); });
    }
    ASSERT_TRUE(commit_sync(*store, UnitOfWork{}));  // barrier: the hour's posts are in
    for (;;) {
      auto n = relay.run_once();
      ASSERT_TRUE(n);
      if (*n == 0) break;
    }
    std::promise<Status> swept;
    sweeper.sweep([&](Status st) { swept.set_value(st); });
    ASSERT_TRUE(swept.get_future().get());
    if (hour % 24 == 23) {
      peak_outbox = std::max(peak_outbox, count("outbox"));
      peak_idempotency = std::max(peak_idempotency, count("idempotency"));
    }
    clock.advance(std::chrono::hours(1));
  }
  // A day's worth (24 × 200 = 4,800) plus the hour being written and the relay's unsaved tail.
  EXPECT_LE(peak_outbox, 24 * kPerHour + kPerHour + 512);
  EXPECT_LE(peak_idempotency, 25 * kPerHour);
  EXPECT_GE(peak_idempotency, 23 * kPerHour);      // kept for a day: a retry within 24 h still finds its key
  EXPECT_EQ(count("surplus"), 24 * 7 * kPerHour);  // history stays
  uint64_t journal_bytes = 0;
  int files = 0;
  for (const auto& f : std::filesystem::directory_iterator(dir.file(""))) {
    if (f.path().filename().string().rfind("events.jsonl", 0) == 0) {
      journal_bytes += f.file_size();
      ++files;
    }
  }
  EXPECT_LE(files, 3);
  EXPECT_LE(journal_bytes, 3 * jopts.max_bytes + 4096);
  std::printf(
      "a simulated week: peak outbox %lld rows, peak idempotency %lld rows, journal %d files %llu bytes, "
      "database and WAL %llu bytes for %d items of history\n",
      static_cast<long long>(peak_outbox), static_cast<long long>(peak_idempotency), files,
      static_cast<unsigned long long>(journal_bytes),
      static_cast<unsigned long long>(std::filesystem::file_size(dir.file("p.db")) +
                                      std::filesystem::file_size(dir.file("p.db-wal"))),
      24 * 7 * kPerHour);
  relay.stop();
}

}  // namespace
}  // namespace pahlawan

namespace pahlawan {
namespace {

// The cold-browse read: by cell ranges on an index, available and old enough only, whatever face of
// the cube the cells are on (ids above INT64_MAX are stored as negative numbers).
TEST(SqliteStore, FindsAvailableItemsByCellRange) {
  TempDir dir;
  auto store = open_store(dir);
  auto at = [&](const std::string& id, double lat, double lon) {
    Surplus s = sample(id);
    s.lat = lat;
    s.lon = lon;
    s.cell = cell_id_at(lat, lon, 13);
    s.created_at = kNow - std::chrono::hours(3);
    UnitOfWork u;
    u.inserts.push_back(s);
    EXPECT_TRUE(commit_sync(*store, std::move(u)));
  };
  at("jakarta", -6.2, 106.8);
  at("jakarta-2", -6.21, 106.81);
  at("semarang", -7.2, 110.4);
  at("lima", -12.05, -77.04);  // a cell id above INT64_MAX
  auto near = [&](double lat, double lon) {
    auto r = store->find_available_near({lat, lon, 5000, covering_ranges(lat, lon, 5000, 13)}, kNow, kNow, std::nullopt,
                                        100);
    EXPECT_TRUE(r);
    std::set<std::string> ids;
    for (const auto& s : *r) ids.insert(s.id);
    return ids;
  };
  EXPECT_EQ(near(-6.2, 106.8), (std::set<std::string>{"jakarta", "jakarta-2"}));
  EXPECT_EQ(near(-12.05, -77.04), (std::set<std::string>{"lima"}));
  EXPECT_GT(cell_id_at(-12.05, -77.04, 13), static_cast<uint64_t>(INT64_MAX));
}

}  // namespace
}  // namespace pahlawan
