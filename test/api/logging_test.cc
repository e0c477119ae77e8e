// The server's log as an operator reads it: JSON lines, one per request at info with its method,
// route, status, duration and trace; the level from --log-level; and never a token, a secret or an
// Authorization header, whatever the requests carried.
#include <boost/json.hpp>

#include <sstream>
#include <string>
#include <vector>

#include "http_client.h"
#include "server_process.h"

#include <gtest/gtest.h>

namespace pahlawan::testing {
namespace {

namespace json = boost::json;

// The output's JSON lines; a line that is not JSON fails the test (except the admin token's
// one-time display, which a server given --admin-token never writes).
std::vector<json::object> log_lines(const std::string& output) {
  std::vector<json::object> out;
  std::istringstream in(output);
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    boost::system::error_code ec;
    json::value v = json::parse(line, ec);
    EXPECT_FALSE(ec || !v.is_object()) << "not a JSON line: " << line;
    if (!ec && v.is_object()) out.push_back(v.as_object());
  }
  return out;
}

std::string str(const json::object& o, const char* key) {
  const auto* v = o.if_contains(key);
  return v && v->is_string() ? std::string(v->get_string()) : "";
}

TEST(Logging, EveryRequestIsOneJsonLineWithItsTraceAndNoCredentialIsEverWritten) {
  ServerProcess server("", {"--log-level", "info"});
  server.start();
  HttpClient c("127.0.0.1", server.port());
  auto provider = c.call("POST", "/v1/providers", server.admin_token(), R"({"name":"Warung","lat":-6.2,"lon":106.8})");
  ASSERT_EQ(provider.status, 201);
  auto ngo = c.call("POST", "/v1/ngos", server.admin_token(),
                    R"({"name":"Panti","lat":-6.2,"lon":106.8,"webhook_url":"https://panti.example/hook"})");
  ASSERT_EQ(ngo.status, 201);
  const std::string provider_token(provider.json().at("token").as_string());
  const std::string ngo_token(ngo.json().at("token").as_string());
  const std::string webhook_secret(ngo.json().at("webhook_secret").as_string());
  const std::string traceparent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
  auto posted = c.call("POST", "/v1/surplus", provider_token,
                       R"({"title":"Nasi","category":"prepared_meal","quantity_kg":5,"ttl_seconds":3600})",
                       {{"traceparent", traceparent}});
  ASSERT_EQ(posted.status, 201);
  const std::string id(posted.json().at("id").as_string());
  EXPECT_EQ(c.call("POST", "/v1/surplus/" + id + "/claim", ngo_token).status, 200);
  // Credentials where a careless log would pick them up: a wrong token, one in the query, a body.
  EXPECT_EQ(c.call("GET", "/v1/offers", "pp_wrong_token_0123456789abcdef").status, 401);
  EXPECT_EQ(c.call("GET", "/v1/surplus?lat=-6.2&lon=106.8&token=" + ngo_token, ngo_token).status, 200);
  EXPECT_EQ(
      c.call("POST", "/v1/ngos/" + std::string(ngo.json().at("id").as_string()) + "/token", provider_token).status,
      403);
  ASSERT_EQ(server.stop(), 0);

  const std::string& out = server.output();
  for (const std::string& secret : {server.admin_token(), provider_token, ngo_token, webhook_secret,
                                    std::string("pp_wrong_token_0123456789abcdef"), std::string("Bearer")}) {
    EXPECT_EQ(out.find(secret), std::string::npos) << "the log holds a credential: " << secret;
  }
  int requests = 0;
  bool traced = false, claim = false;
  for (const auto& line : log_lines(out)) {
    EXPECT_FALSE(str(line, "time").empty());
    EXPECT_FALSE(str(line, "level").empty());
    if (str(line, "msg") != "request") continue;
    ++requests;
    EXPECT_EQ(str(line, "level"), "info");
    EXPECT_TRUE(line.at("status").is_int64());
    EXPECT_TRUE(line.at("duration_ms").is_double() || line.at("duration_ms").is_int64());
    EXPECT_EQ(str(line, "trace_id").size(), 32u) << json::serialize(line);
    EXPECT_EQ(str(line, "span_id").size(), 16u);
    if (str(line, "trace_id") == "4bf92f3577b34da6a3ce929d0e0e4736") {
      traced = true;
      EXPECT_EQ(str(line, "route"), "/v1/surplus");
      EXPECT_EQ(str(line, "method"), "POST");
      EXPECT_EQ(line.at("status").as_int64(), 201);
      EXPECT_NE(str(line, "span_id"), "00f067aa0ba902b7") << "the server's own span, not the caller's";
    }
    claim |= str(line, "route") == "/v1/surplus/{id}/claim" && line.at("status").as_int64() == 200;
  }
  EXPECT_EQ(requests, 7) << "one line per request";
  EXPECT_TRUE(traced) << "the caller's trace id is in its request's line";
  EXPECT_TRUE(claim) << "routes are templates: no item id in the label";
}

TEST(Logging, AboveInfoNoRequestLinesAreWritten) {
  ServerProcess server("", {"--log-level", "warn"});
  server.start();
  HttpClient c("127.0.0.1", server.port());
  EXPECT_EQ(c.call("GET", "/v1/offers", "pp_wrong_token_0123456789abcdef").status, 401);
  ASSERT_EQ(server.stop(), 0);
  for (const auto& line : log_lines(server.output())) {
    EXPECT_NE(str(line, "msg"), "request") << json::serialize(line);
  }
}

}  // namespace
}  // namespace pahlawan::testing
