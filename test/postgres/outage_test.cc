// PostgreSQL goes away under a running server and comes back: meanwhile writes are answered 503
// `unavailable` with Retry-After (never a hang, never a crash), nothing acknowledged before is lost,
// and the server recovers by itself — the first request after the database is back succeeds.
// The same with two replicas (--replica, on a nats-server the test starts): both answer 503 while
// the database is away, and both serve again once it is back, without a restart.
// Stops and starts the run's shared PostgreSQL server, so ctest runs it alone (RUN_SERIAL).
#include <cstdlib>
#include <string>

#include <boost/json.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <functional>
#include <memory>
#include <thread>

#include "http_client.h"
#include "nats_server_process.h"
#include "pg_test_db.h"
#include "polling.h"
#include "server_process.h"

#include <gtest/gtest.h>

namespace pahlawan::testing {
namespace {

std::string field(const HttpResult& r, const char* key) {
  return std::string(r.json().as_object().at(key).as_string());
}

void postgres(const char* action) {
  const std::string cmd = std::string("bash ") + PAHLAWAN_SOURCE_DIR + "/scripts/services.sh " + action;
  ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd << " (PP_PG_DIR is set by scripts/services.sh)";
}

TEST(PostgresOutage, WritesGet503WhileTheDatabaseIsDownAndTheServerRecoversByItself) {
  ASSERT_NE(std::getenv("PP_PG_DIR"), nullptr) << "run through scripts/test.sh, which starts PostgreSQL";
  setenv("PAHLAWAN_TEST_STACK", "postgres", 1);
  ServerProcess server;
  server.start();
  HttpClient c("127.0.0.1", server.port());
  auto p = c.call("POST", "/v1/providers", server.admin_token(), R"({"name":"Warung","lat":-6.2,"lon":106.8})");
  ASSERT_EQ(p.status, 201) << p.body;
  const std::string token = field(p, "token");
  const std::string body = R"({"title":"Nasi","category":"prepared_meal","quantity_kg":5,"ttl_seconds":3600})";
  auto before = c.call("POST", "/v1/surplus", token, body);
  ASSERT_EQ(before.status, 201) << before.body;

  postgres("postgres-stop");
  HttpClient during("127.0.0.1", server.port());
  auto refused = during.call("POST", "/v1/surplus", token, body);
  EXPECT_EQ(refused.status, 503) << refused.body;
  EXPECT_EQ(refused.headers["retry-after"], "1");
  EXPECT_EQ(refused.json().at("error").at("code").as_string(), "unavailable") << refused.body;
  EXPECT_EQ(during.call("GET", "/healthz", "").status, 200);  // alive, only its database is away

  postgres("postgres-start");
  HttpClient after("127.0.0.1", server.port());
  auto accepted = after.call("POST", "/v1/surplus", token, body);
  EXPECT_EQ(accepted.status, 201) << "the first post after the database came back: " << accepted.body;
  for (const auto* r : {&before, &accepted}) {
    if (r->status != 201) continue;
    auto read = after.call("GET", "/v1/surplus/" + field(*r, "id"), token);
    EXPECT_EQ(read.status, 200) << read.body;
  }
  EXPECT_EQ(server.stop(), 0) << server.output();
}

TEST(PostgresOutage, ReplicasAnswer503WhileTheDatabaseIsDownAndBothRecoverByThemselves) {
  ASSERT_NE(std::getenv("PP_PG_DIR"), nullptr) << "run through scripts/test.sh, which starts PostgreSQL";
  PgTestDb db;
  ASSERT_FALSE(db.url().empty());
  NatsServerProcess nats;
  nats.start();
  std::vector<std::unique_ptr<ServerProcess>> replicas;
  for (const char* name : {"a", "b"}) {
    replicas.push_back(std::make_unique<ServerProcess>(
        "", std::vector<std::string>{"--store", db.url(), "--bus", nats.url(), "--replica", name, "--listen",
                                     "127.0.0.1:" + std::to_string(free_loopback_port()), "--lease-ttl-ms", "2000",
                                     "--rate-limit", "0"}));
    replicas.back()->start();
  }
  HttpClient a("127.0.0.1", replicas[0]->port());
  auto p = a.call("POST", "/v1/providers", replicas[0]->admin_token(), R"({"name":"Warung","lat":-6.2,"lon":106.8})");
  ASSERT_EQ(p.status, 201) << p.body;
  const std::string token = field(p, "token");
  const std::string body = R"({"title":"Nasi","category":"prepared_meal","quantity_kg":5,"ttl_seconds":3600})";
  auto post_via = [&](size_t i) {
    try {
      HttpClient c("127.0.0.1", replicas[i]->port());
      return c.call("POST", "/v1/surplus", token, body);
    } catch (const std::exception&) {
      return HttpResult{};  // a forward whose answer was lost: no answer
    }
  };
  ASSERT_TRUE(eventually([&] { return post_via(1).status == 201; })) << "b knows the provider, a's partition";
  ASSERT_EQ(post_via(0).status, 201);

  postgres("postgres-stop");
  for (size_t i = 0; i < 2; ++i) {
    auto refused = post_via(i);
    EXPECT_EQ(refused.status, 503) << i << ": " << refused.body;
    EXPECT_EQ(refused.headers["retry-after"], "1") << i;
  }
  postgres("postgres-start");
  for (size_t i = 0; i < 2; ++i) {
    EXPECT_TRUE(eventually([&] { return post_via(i).status == 201; }, 60)) << "replica " << i << " did not recover";
  }
  for (auto& r : replicas) EXPECT_EQ(r->stop(), 0) << r->output();
}

}  // namespace
}  // namespace pahlawan::testing
