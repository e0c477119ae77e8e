// PostgreSQL goes away under a running server and comes back: meanwhile writes are answered 503
// `unavailable` with Retry-After (never a hang, never a crash), nothing acknowledged before is lost,
// and the server recovers by itself — the first request after the database is back succeeds.
// Stops and starts the run's shared PostgreSQL server, so ctest runs it alone (RUN_SERIAL).
#include <cstdlib>
#include <string>

#include <boost/json.hpp>

#include "http_client.h"
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

}  // namespace
}  // namespace pahlawan::testing
