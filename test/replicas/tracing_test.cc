// One trace across two replicas, as a collector sees it: a post sent to the replica that does not
// own its place is forwarded to the one that does, matched there, offered, published to NATS,
// taken by a webhooks consumer and delivered — every step a span of the client's trace, each the
// child of the one before, from both replicas, and the webhook's traceparent naming the last.
// Real `pahlawan serve --replica` processes on PostgreSQL and nats-server; the collector and the
// NGO's webhook are local HTTP receivers.
#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include "http_client.h"
#include "nats_server_process.h"
#include "otlp_spans.h"
#include "pg_test_db.h"
#include "polling.h"
#include "server_process.h"
#include "webhook_receiver.h"

#include <gtest/gtest.h>

namespace pahlawan::testing {
namespace {

constexpr const char* kTrace = "4bf92f3577b34da6a3ce929d0e0e4736";
constexpr const char* kClientSpan = "00f067aa0ba902b7";

class Tracing : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_FALSE(db_.url().empty());
    nats_.start();
  }
  std::unique_ptr<ServerProcess> replica(const std::string& name) {
    const std::string listen = "127.0.0.1:" + std::to_string(free_loopback_port());
    auto r = std::make_unique<ServerProcess>(
        "", std::vector<std::string>{"--store", db_.url(), "--bus", nats_.url(), "--replica", name, "--listen", listen,
                                     "--lease-ttl-ms", "2000", "--rate-limit", "0", "--webhook-allow-private", "true",
                                     "--webhook-retry-ms", "50", "--otlp-endpoint",
                                     "http://127.0.0.1:" + std::to_string(collector_.port())});
    r->start();
    return r;
  }
  std::string token_of(const HttpResult& r) {
    EXPECT_EQ(r.status, 201) << r.body;
    return r.status == 201 ? std::string(r.json().at("token").as_string()) : "";
  }

  PgTestDb db_;
  NatsServerProcess nats_;
  Receiver collector_{nullptr, true};
  Receiver hook_{nullptr, true};
};

// The one span of `spans` named `name` whose parent is `parent`; fails the test if there is none.
const ReceivedSpan* child(const std::vector<ReceivedSpan>& spans, const std::string& name, const std::string& parent) {
  for (const auto& s : spans) {
    if (s.trace_id == kTrace && s.name == name && s.parent_span_id == parent) return &s;
  }
  std::string seen;
  for (const auto& s : spans) {
    if (s.trace_id == kTrace) seen += "\n  " + s.name + " " + s.span_id + " <- " + s.parent_span_id + " @" + s.instance;
  }
  ADD_FAILURE() << "no span \"" << name << "\" under " << parent << "; the trace has:" << seen;
  return nullptr;
}

TEST_F(Tracing, APostForwardedBetweenReplicasIsOneTraceFromTheClientToTheWebhook) {
  auto a = replica("a");
  auto b = replica("b");
  HttpClient ca("127.0.0.1", a->port()), cb("127.0.0.1", b->port());
  const std::string provider =
      token_of(ca.call("POST", "/v1/providers", a->admin_token(), R"({"name":"Warung","lat":-6.2,"lon":106.8})"));
  const std::string ngo =
      token_of(ca.call("POST", "/v1/ngos", a->admin_token(),
                       R"({"name":"Panti","lat":-6.201,"lon":106.801,"webhook_url":"http://127.0.0.1:)" +
                           std::to_string(hook_.port()) + R"(/hook"})"));
  ASSERT_TRUE(eventually([&] { return cb.call("GET", "/v1/offers", ngo).status == 200; }));
  const std::string body = R"({"title":"Nasi","category":"prepared_meal","quantity_kg":5,"ttl_seconds":3600})";
  ASSERT_EQ(ca.call("POST", "/v1/surplus", provider, body).status, 201);  // a takes Jakarta's partition

  const std::string traceparent = std::string("00-") + kTrace + "-" + kClientSpan + "-01";
  auto posted = cb.call("POST", "/v1/surplus", provider, body, {{"traceparent", traceparent}, {"tracestate", "k=v"}});
  ASSERT_EQ(posted.status, 201) << posted.body;
  const std::string id(posted.json().at("id").as_string());
  ASSERT_EQ(posted.headers["traceparent"].substr(0, 36), traceparent.substr(0, 36)) << "the answer names its span";
  EXPECT_EQ(posted.headers["tracestate"], "k=v");

  // The offer's webhook carries the trace on.
  std::string hook_parent;
  ASSERT_TRUE(eventually([&] {
    for (const auto& r : hook_.wait_for(0)) {
      if (r.body.find(id) != std::string::npos && r.body.find("surplus.offered") != std::string::npos) {
        hook_parent = r.traceparent;
      }
    }
    return !hook_parent.empty();
  }));
  ASSERT_EQ(hook_parent.substr(3, 32), kTrace);
  const std::string hook_span = hook_parent.substr(36, 16);

  // Each replica sends its spans every second: b's (the request and its forward) and a's (all
  // that followed, up to the webhook) may come in either order.
  std::vector<ReceivedSpan> spans;
  ASSERT_TRUE(eventually([&] {
    spans = otlp_spans(collector_.wait_for(0));
    auto has = [&](auto pred) { return std::any_of(spans.begin(), spans.end(), pred); };
    return has([&](const ReceivedSpan& s) { return s.span_id == hook_span; }) &&
           has([&](const ReceivedSpan& s) { return s.trace_id == kTrace && s.name == "forward POST"; });
  }));
  const ReceivedSpan* at_b = child(spans, "POST /v1/surplus", kClientSpan);
  ASSERT_NE(at_b, nullptr);
  EXPECT_EQ(at_b->kind, 2);
  EXPECT_EQ(at_b->attributes.at("http.response.status_code"), "201");
  EXPECT_EQ(at_b->instance.rfind("b@", 0), 0u) << at_b->instance;
  const ReceivedSpan* forward = child(spans, "forward POST", at_b->span_id);
  ASSERT_NE(forward, nullptr);
  const ReceivedSpan* at_a = child(spans, "POST /v1/surplus", forward->span_id);
  ASSERT_NE(at_a, nullptr);
  EXPECT_EQ(at_a->instance.rfind("a@", 0), 0u) << "the owner served it: " << at_a->instance;
  const ReceivedSpan* insert = child(spans, "actor insert", at_a->span_id);
  ASSERT_NE(insert, nullptr);
  EXPECT_EQ(insert->attributes.at("pahlawan.surplus_id"), id);
  EXPECT_NE(child(spans, "store commit", insert->span_id), nullptr);
  const ReceivedSpan* match = child(spans, "actor match", insert->span_id);
  ASSERT_NE(match, nullptr);
  const ReceivedSpan* offer = child(spans, "actor decide", match->span_id);
  ASSERT_NE(offer, nullptr);
  EXPECT_EQ(offer->attributes.at("pahlawan.event"), "surplus.offered");
  const ReceivedSpan* publish = child(spans, "publish surplus.offered", offer->span_id);
  ASSERT_NE(publish, nullptr);
  EXPECT_EQ(publish->kind, 4);
  // Every consumer of offers receives it (the metrics consumer too): the delivery comes from the
  // webhooks consumer's.
  const auto webhook =
      std::find_if(spans.begin(), spans.end(), [&](const ReceivedSpan& s) { return s.span_id == hook_span; });
  ASSERT_NE(webhook, spans.end());
  EXPECT_EQ(webhook->name, "webhook POST") << "the receiver was sent the delivery's own span";
  EXPECT_EQ(webhook->kind, 3);
  const ReceivedSpan* receive = child(spans, "receive surplus.offered", publish->span_id);
  for (const auto& s : spans) {
    if (s.span_id == webhook->parent_span_id) receive = &s;
  }
  ASSERT_NE(receive, nullptr);
  EXPECT_EQ(receive->name, "receive surplus.offered");
  EXPECT_EQ(receive->parent_span_id, publish->span_id);
  EXPECT_EQ(receive->kind, 5);
  EXPECT_EQ(receive->attributes.at("messaging.consumer.group.name"), "webhooks");
  EXPECT_EQ(webhook->attributes.at("http.response.status_code"), "200");

  EXPECT_EQ(a->stop(), 0) << a->output();
  EXPECT_EQ(b->stop(), 0) << b->output();
}

}  // namespace
}  // namespace pahlawan::testing
