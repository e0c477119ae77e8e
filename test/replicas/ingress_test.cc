// nginx (Debian's) in front of two replicas, with deploy/nginx/pahlawan.conf: requests spread over
// both, a client's traceparent reaches the replica unchanged, a request without one gets a trace id
// from nginx, and each request's trace id is in nginx's access log and in the events it caused.
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <boost/json.hpp>

#include "http_client.h"
#include "nats_server_process.h"
#include "nginx_process.h"
#include "pg_test_db.h"
#include "polling.h"
#include "server_process.h"

#include <gtest/gtest.h>

namespace pahlawan::testing {
namespace {

std::string trace_id_of(const std::string& traceparent) {
  return traceparent.size() >= 35 ? traceparent.substr(3, 32) : "";
}

TEST(Ingress, NginxSpreadsRequestsAndEveryRequestsTraceIdIsInItsLogAndInItsEvents) {
  PgTestDb db;
  ASSERT_FALSE(db.url().empty());
  NatsServerProcess nats;
  nats.start();
  std::vector<std::unique_ptr<ServerProcess>> replicas;
  std::vector<int> ports;
  for (const char* name : {"a", "b"}) {
    const int port = free_loopback_port();
    replicas.push_back(std::make_unique<ServerProcess>(
        "", std::vector<std::string>{"--store", db.url(), "--bus", nats.url(), "--replica", name, "--listen",
                                     "127.0.0.1:" + std::to_string(port), "--rate-limit", "0"}));
    replicas.back()->start();
    ports.push_back(port);
  }
  NginxProcess nginx(ports);
  HttpClient c("127.0.0.1", nginx.port());
  auto p = c.call("POST", "/v1/providers", replicas[0]->admin_token(), R"({"name":"Warung","lat":-6.2,"lon":106.8})");
  ASSERT_EQ(p.status, 201) << p.body;
  const std::string token(p.json().at("token").as_string());
  for (int port : ports) {  // both replicas know the provider before posts go to either
    HttpClient direct("127.0.0.1", port);
    ASSERT_TRUE(eventually([&] { return direct.call("GET", "/v1/surplus/none", token).status == 404; }));
  }
  const std::string body = R"({"title":"Nasi","category":"prepared_meal","quantity_kg":5,"ttl_seconds":3600})";
  const std::string client_trace = "4bf92f3577b34da6a3ce929d0e0e4736";
  auto traced =
      c.call("POST", "/v1/surplus", token, body, {{"traceparent", "00-" + client_trace + "-00f067aa0ba902b7-01"}});
  ASSERT_EQ(traced.status, 201) << traced.body;
  auto untraced = c.call("POST", "/v1/surplus", token, body);
  ASSERT_EQ(untraced.status, 201) << untraced.body;
  for (int i = 0; i < 8; ++i) ASSERT_EQ(c.call("POST", "/v1/surplus", token, body).status, 201);

  // The posted events in JetStream, by item: each carries its request's trace id.
  std::map<std::string, std::string> trace_of;  // item id -> trace id
  ASSERT_TRUE(eventually([&] {
    trace_of.clear();
    for (auto& m : nats.read_stream("PAHLAWAN")) {
      if (m.subject.rfind("pp.surplus.posted.", 0) != 0) continue;
      boost::system::error_code ec;
      auto v = boost::json::parse(m.data, ec);
      if (ec || !v.is_object() || !v.as_object().contains("surplus_id")) continue;
      trace_of[std::string(v.at("surplus_id").as_string())] = trace_id_of(m.headers["traceparent"]);
    }
    return trace_of.size() >= 10;
  }));
  const std::string traced_id(traced.json().at("id").as_string()), untraced_id(untraced.json().at("id").as_string());
  EXPECT_EQ(trace_of[traced_id], client_trace) << "the client's trace went through nginx and the replica";
  const std::string started_by_nginx = trace_of[untraced_id];
  EXPECT_EQ(started_by_nginx.size(), 32u);
  EXPECT_NE(started_by_nginx, client_trace);

  // nginx's log names both traces, and both replicas served requests.
  const std::string log = nginx.access_log();
  EXPECT_NE(log.find("trace_id=" + client_trace), std::string::npos) << log;
  EXPECT_NE(log.find("trace_id=" + started_by_nginx), std::string::npos) << "the trace nginx started, logged";
  for (int port : ports) {
    EXPECT_NE(log.find("upstream=127.0.0.1:" + std::to_string(port)), std::string::npos) << port << "\n" << log;
  }
  for (auto& r : replicas) EXPECT_EQ(r->stop(), 0) << r->output();
}

}  // namespace
}  // namespace pahlawan::testing
