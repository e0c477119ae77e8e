// Crashes at the worst moments, chosen by named fault points (common/fault.h) rather than by a kill at
// a random time: just before the commit (the post was never durable, so its retry creates it), just
// after the fsync but before the answer (durable but unanswered, so its retry finds it), and between
// the relay's publish and its cursor save (the journal gets every event exactly once anyway). Built
// only where the points are compiled in (the debug and sanitizer presets).
#include <boost/json.hpp>

#include <filesystem>
#include <map>

#include <gtest/gtest.h>
#include "http_client.h"
#include "journal_reader.h"
#include "server_process.h"

namespace pahlawan::testing {
namespace {

std::string str(const boost::json::value& v, const char* key) {
  return std::string(v.at(key).as_string());
}

constexpr const char* kPost =
    R"({"title":"Nasi","category":"prepared_meal","quantity_kg":2,"ttl_seconds":3600,"lat":-6.2,"lon":106.8})";
constexpr int kKilled = 128 + 9;
// Every start commits once (the admin token's hash) before it listens: a store point's first hit
// after start-up is its second.
constexpr const char* kFirstAfterStart = "@2";

class FaultCrash : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/pahlawan-fault-XXXXXX";
    dir_ = mkdtemp(tmpl);
    ServerProcess server(dir_);
    server.start();
    HttpClient admin("127.0.0.1", server.port());
    auto p = admin.call("POST", "/v1/providers", server.admin_token(), R"({"name":"Hotel","lat":-6.2,"lon":106.8})");
    ASSERT_EQ(p.status, 201);
    provider_token_ = str(p.json(), "token");
    ASSERT_EQ(server.stop(), 0);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  // A keyed post; status 0 when the connection ended without an answer.
  HttpResult post(ServerProcess& server, const std::string& key) {
    HttpClient c("127.0.0.1", server.port());
    try {
      return c.call("POST", "/v1/surplus", provider_token_, kPost, {{"Idempotency-Key", key}});
    } catch (const std::exception&) {
      return HttpResult{};
    }
  }

  // Starts the server with `faults` armed, posts with `key` and expects the process to die at the point.
  HttpResult post_into_crash(const std::string& faults, const std::string& key) {
    ServerProcess server(dir_);
    server.set_faults(faults);
    server.start();
    HttpResult r = post(server, key);
    EXPECT_EQ(server.wait_exit(30000), kKilled) << "the fault point did not fire: " << faults;
    return r;
  }

  // The journal's events by id after a graceful stop, checking it has no gap and no repeat.
  std::map<std::string, int> journal_counts(const std::string& type) {
    const JournalRead journal = read_journal(dir_);
    EXPECT_EQ(journal.gap, "") << "gap or repeat in the journal";
    std::map<std::string, int> per_surplus;
    for (const auto& e : journal.events) {
      if (e.at("type").as_string() == type) per_surplus[str(e, "surplus_id")]++;
    }
    return per_surplus;
  }

  std::string dir_;
  std::string provider_token_;
};

TEST_F(FaultCrash, CrashBeforeTheCommitLosesTheUnansweredPostAndItsRetryCreatesIt) {
  EXPECT_EQ(post_into_crash(std::string("store.before_commit=crash") + kFirstAfterStart, "k-1").status, 0);

  ServerProcess again(dir_);
  again.start();
  auto retry = post(again, "k-1");
  EXPECT_EQ(retry.status, 201) << "the post was durable although the crash came before the commit: " << retry.body;
  auto replay = post(again, "k-1");
  EXPECT_EQ(replay.status, 200);
  EXPECT_EQ(str(replay.json(), "id"), str(retry.json(), "id"));
  ASSERT_EQ(again.stop(), 0);
  auto posted = journal_counts("surplus.posted");
  EXPECT_EQ(posted.size(), 1u);
  EXPECT_EQ(posted[str(retry.json(), "id")], 1);
}

TEST_F(FaultCrash, CrashAfterTheFsyncKeepsTheUnansweredPostAndItsRetryFindsIt) {
  EXPECT_EQ(post_into_crash(std::string("store.after_commit_before_reply=crash") + kFirstAfterStart, "k-1").status, 0);

  ServerProcess again(dir_);
  again.start();
  auto retry = post(again, "k-1");
  EXPECT_EQ(retry.status, 200) << "a post committed before the crash was lost or made twice: " << retry.body;
  ASSERT_EQ(again.stop(), 0);
  auto posted = journal_counts("surplus.posted");
  ASSERT_EQ(posted.size(), 1u);
  EXPECT_EQ(posted.begin()->first, str(retry.json(), "id"));
  EXPECT_EQ(posted.begin()->second, 1);
}

TEST_F(FaultCrash, CrashBetweenPublishAndCursorSaveJournalsEveryEventOnce) {
  // The relay publishes the post's event, then dies before it can record that it did.
  const HttpResult first = post_into_crash("relay.after_publish_before_cursor=crash", "k-1");
  {
    auto before_restart = journal_counts("surplus.posted");
    EXPECT_EQ(before_restart.size(), 1u) << "the relay died before publishing";
  }
  ServerProcess again(dir_);
  again.start();
  auto second = post(again, "k-2");
  ASSERT_EQ(second.status, 201);
  auto retry = post(again, "k-1");
  ASSERT_EQ(retry.status, 200);
  if (first.status != 0) {
    EXPECT_EQ(str(first.json(), "id"), str(retry.json(), "id"));
  }
  ASSERT_EQ(again.stop(), 0);
  auto posted = journal_counts("surplus.posted");
  EXPECT_EQ(posted.size(), 2u);
  for (const auto& [id, n] : posted) EXPECT_EQ(n, 1) << id << " journalled " << n << " times";
}

TEST_F(FaultCrash, AFailedCommitAnswers503AndChangesNothing) {
  ServerProcess server(dir_);
  server.set_faults(std::string("store.before_commit=error") + kFirstAfterStart + "x1");
  server.start();
  auto failed = post(server, "k-1");
  EXPECT_EQ(failed.status, 503) << failed.body;
  EXPECT_EQ(str(failed.json().at("error"), "code"), "unavailable") << failed.body;
  auto retry = post(server, "k-1");
  EXPECT_EQ(retry.status, 201) << "the failed post left something behind: " << retry.body;
  ASSERT_EQ(server.stop(), 0);
  EXPECT_EQ(journal_counts("surplus.posted").size(), 1u);
}

}  // namespace
}  // namespace pahlawan::testing
