// Traces: the Tracer's contexts and sampling, the OTLP/JSON body, and the exporter against a local
// collector (one that answers, and one that never does).
#include <boost/json.hpp>

#include <mutex>
#include <vector>

#include "adapters/otlp/otlp_http_exporter.h"
#include "adapters/otlp/otlp_json.h"
#include "common/metrics.h"
#include "common/trace_context.h"
#include "engine/tracer.h"
#include "polling.h"
#include "silent_listener.h"
#include "webhook_receiver.h"

#include <gtest/gtest.h>

namespace pahlawan {
namespace {

namespace json = boost::json;

class CollectingExporter final : public SpanExporter {
 public:
  bool admit() override { return admitting; }
  void submit(SpanRecord span) override {
    std::lock_guard lock(mu);
    spans.push_back(std::move(span));
  }
  bool admitting = true;
  std::mutex mu;
  std::vector<SpanRecord> spans;
};

constexpr const char* kParent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

struct TracerFixture {
  CollectingExporter out;
  uint64_t n = 41;
  int64_t now = 1'000'000'000;
  Tracer tracer(double ratio = 1.0) {
    return Tracer(
        &out, ratio, [this] { return ++n; }, [this] { return now; });
  }
};

TEST(Tracer, ContinuesAValidTraceWithANewSpanAndRecordsItsParent) {
  TracerFixture f;
  const Tracer t = f.tracer();
  Span s = t.start("POST /v1/surplus", SpanKind::kServer, kParent, "vendor=abc");
  EXPECT_TRUE(valid_traceparent(s.traceparent()));
  EXPECT_EQ(s.traceparent().substr(0, 36), std::string(kParent).substr(0, 36)) << "same version and trace id";
  EXPECT_NE(s.traceparent().substr(36, 16), std::string(kParent).substr(36, 16)) << "a span id of its own";
  EXPECT_EQ(s.traceparent().substr(53), "01");
  s.set("http.route", "/v1/surplus");
  s.set("http.response.status_code", int64_t{503});
  s.fail("HTTP 503");
  f.now += 2500;
  s.end();
  s.end();  // once only
  ASSERT_EQ(f.out.spans.size(), 1u);
  const SpanRecord& r = f.out.spans[0];
  EXPECT_EQ(r.trace_id, "4bf92f3577b34da6a3ce929d0e0e4736");
  EXPECT_EQ(r.parent_span_id, "00f067aa0ba902b7");
  EXPECT_EQ(r.span_id, s.traceparent().substr(36, 16));
  EXPECT_EQ(r.tracestate, "vendor=abc");
  EXPECT_EQ(r.kind, SpanKind::kServer);
  EXPECT_EQ(r.end_unix_ns - r.start_unix_ns, 2500);
  EXPECT_TRUE(r.error);
  EXPECT_EQ(r.status_message, "HTTP 503");
  ASSERT_EQ(r.attributes.size(), 2u);
  EXPECT_EQ(std::get<int64_t>(r.attributes[1].value), 503);
}

TEST(Tracer, StartsATraceForMissingOrInvalidParentsAndDropsAMalformedTracestate) {
  TracerFixture f;
  const Tracer t = f.tracer();
  for (const char* bad : {"", "garbage", "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
                          "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01"}) {
    EXPECT_FALSE(valid_traceparent(bad));
    Span s = t.start("x", SpanKind::kInternal, bad, "vendor=abc");
    EXPECT_TRUE(valid_traceparent(s.traceparent())) << bad;
    EXPECT_NE(s.traceparent().substr(3, 32), "4bf92f3577b34da6a3ce929d0e0e4736");
  }
  ASSERT_EQ(f.out.spans.size(), 4u);
  for (const auto& r : f.out.spans) {
    EXPECT_TRUE(r.parent_span_id.empty()) << "a root";
    EXPECT_TRUE(r.tracestate.empty()) << "a root continues no vendor's state";
  }
  f.out.spans.clear();
  { Span s = t.start("x", SpanKind::kInternal, kParent, "bad member"); }
  ASSERT_EQ(f.out.spans.size(), 1u);
  EXPECT_TRUE(f.out.spans[0].tracestate.empty());
}

TEST(Tracer, AChildFollowsItsParentsSampledFlagAndARootTheRatio) {
  TracerFixture f;
  const Tracer none = f.tracer(0.0);
  {
    Span root = none.start("root", SpanKind::kServer, "");
    EXPECT_EQ(root.traceparent().substr(53), "00") << "not sampled, and says so to the next hop";
    EXPECT_FALSE(root.recording());
    Span child = none.start("child", SpanKind::kInternal, root.traceparent());
    EXPECT_FALSE(child.recording());
    Span sampled_child = none.start("child", SpanKind::kInternal, kParent);
    EXPECT_TRUE(sampled_child.recording()) << "the parent kept the trace: so does every replica after it";
  }
  EXPECT_EQ(f.out.spans.size(), 1u);
  const Tracer all = f.tracer(1.0);
  Span kept = all.start("root", SpanKind::kServer, "");
  EXPECT_TRUE(kept.recording());
  Span dropped = all.start("child", SpanKind::kInternal, "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00");
  EXPECT_FALSE(dropped.recording());
}

TEST(Tracer, WithoutAnExporterNothingIsRecordedButContextsAreStillHandedOn) {
  const Tracer& t = untraced();
  Span s = t.start("x", SpanKind::kServer, kParent);
  EXPECT_FALSE(s.recording());
  EXPECT_EQ(s.traceparent().substr(0, 36), std::string(kParent).substr(0, 36));
  EXPECT_NE(s.traceparent(), kParent);
  Span inert;
  EXPECT_TRUE(inert.traceparent().empty());
  inert.set("k", "v");
  inert.end();
}

// An exporter that would only drop (its queue full) is asked first: the span is not recorded, but
// its context is handed on as if it were, so the trace stays whole where the exporter keeps up.
TEST(Tracer, ASpanTheExporterDoesNotAdmitIsNotRecordedButItsContextGoesOn) {
  TracerFixture f;
  f.out.admitting = false;
  const Tracer t = f.tracer();
  Span s = t.start("POST /v1/surplus", SpanKind::kServer, kParent);
  EXPECT_FALSE(s.recording());
  EXPECT_TRUE(valid_traceparent(s.traceparent()));
  EXPECT_EQ(s.traceparent().substr(0, 36), std::string(kParent).substr(0, 36));
  EXPECT_EQ(s.traceparent().substr(53), "01") << "still sampled: the next hop may record it";
  s.end();
  EXPECT_TRUE(f.out.spans.empty());
}

TEST(TraceContext, TracestateRules) {
  EXPECT_TRUE(valid_tracestate("rojo=00f067aa0ba902b7"));
  EXPECT_TRUE(valid_tracestate("rojo=00f067aa0ba902b7, congo=t61rcWkgMzE,"));
  EXPECT_FALSE(valid_tracestate(""));
  EXPECT_FALSE(valid_tracestate("novalue"));
  EXPECT_FALSE(valid_tracestate("=x"));
  EXPECT_FALSE(valid_tracestate("a=\x01"));
  EXPECT_FALSE(valid_tracestate(std::string(513, 'a')));
  std::string many;
  for (int i = 0; i < 33; ++i) many += "k" + std::to_string(i) + "=v,";
  EXPECT_FALSE(valid_tracestate(many)) << "more than 32 members";
}

SpanRecord sample_span(const std::string& parent) {
  SpanRecord r;
  r.trace_id = "4bf92f3577b34da6a3ce929d0e0e4736";
  r.span_id = "00f067aa0ba902b7";
  r.parent_span_id = parent;
  r.name = "actor insert";
  r.kind = SpanKind::kProducer;
  r.start_unix_ns = 1700000000123456789;
  r.end_unix_ns = 1700000000123999999;
  r.attributes = {{"pahlawan.cell", std::string("123")}, {"pahlawan.destinations", int64_t{7}}};
  return r;
}

TEST(OtlpJson, FollowsTheProtobufJsonMapping) {
  SpanRecord failed = sample_span("");
  failed.error = true;
  failed.status_message = "refused";
  const json::value v =
      json::parse(otlp_json_body({{"service.name", "pahlawan"}}, {sample_span("b7ad6b7169203331"), failed}));
  const auto& rs = v.at("resourceSpans").at(0);
  EXPECT_EQ(rs.at("resource").at("attributes").at(0).at("key"), "service.name");
  EXPECT_EQ(rs.at("resource").at("attributes").at(0).at("value").at("stringValue"), "pahlawan");
  const auto& spans = rs.at("scopeSpans").at(0).at("spans").as_array();
  ASSERT_EQ(spans.size(), 2u);
  const auto& s = spans[0].as_object();
  EXPECT_EQ(s.at("traceId"), "4bf92f3577b34da6a3ce929d0e0e4736") << "ids are hex, not base64";
  EXPECT_EQ(s.at("parentSpanId"), "b7ad6b7169203331");
  EXPECT_EQ(s.at("kind"), 4);
  EXPECT_EQ(s.at("startTimeUnixNano"), "1700000000123456789") << "64-bit numbers are strings";
  EXPECT_EQ(s.at("attributes").at(1).at("value").at("intValue"), "7");
  EXPECT_FALSE(s.contains("status"));
  EXPECT_FALSE(spans[1].as_object().contains("parentSpanId")) << "a root has none";
  EXPECT_EQ(spans[1].at("status").at("code"), 2);
  EXPECT_EQ(spans[1].at("status").at("message"), "refused");
}

double outcome(MetricsRegistry& m, const char* what) {
  return m.counter("otlp_spans_total", "", std::string("outcome=\"") + what + "\"").value();
}

TEST(OtlpHttpExporter, SendsBatchesToTheCollector) {
  testing::Receiver collector(nullptr, true);
  MetricsRegistry metrics;
  OtlpOptions o;
  o.endpoint = "http://127.0.0.1:" + std::to_string(collector.port());
  o.resource = {{"service.name", "pahlawan"}};
  o.max_batch = 3;
  auto e = OtlpHttpExporter::start(o, metrics);
  ASSERT_TRUE(static_cast<bool>(e)) << e.status().message();
  for (int i = 0; i < 7; ++i) (*e)->submit(sample_span(""));
  (*e)->stop();                            // what is queued goes now
  const auto got = collector.wait_for(3);  // stop() returned: every batch has been answered
  ASSERT_GE(got.size(), 3u) << "7 spans in batches of at most 3";
  size_t spans = 0;
  for (const auto& r : got) {
    EXPECT_EQ(r.path, "/v1/traces");
    const size_t n = json::parse(r.body).at("resourceSpans").at(0).at("scopeSpans").at(0).at("spans").as_array().size();
    EXPECT_LE(n, 3u);
    spans += n;
  }
  EXPECT_EQ(spans, 7u);
  EXPECT_EQ(outcome(metrics, "exported"), 7);
  EXPECT_EQ(outcome(metrics, "dropped"), 0);
}

TEST(OtlpHttpExporter, ACollectorThatNeverAnswersCostsSpansNotWaiting) {
  // Accepts connections and never answers: every batch runs into its deadline.
  testing::SilentListener silent;
  MetricsRegistry metrics;
  OtlpOptions o;
  o.endpoint = "http://127.0.0.1:" + std::to_string(silent.port());
  o.max_queue = 10;
  o.max_batch = 4;
  o.timeout = std::chrono::milliseconds(200);
  auto e = OtlpHttpExporter::start(o, metrics);
  ASSERT_TRUE(static_cast<bool>(e));
  // Far more than the queue holds: submit() takes or drops each at once, whatever the collector does.
  for (int i = 0; i < 1000; ++i) (*e)->submit(sample_span(""));
  (*e)->stop();
  const double exported = outcome(metrics, "exported"), dropped = outcome(metrics, "dropped"),
               failed = outcome(metrics, "failed");
  EXPECT_EQ(exported, 0);
  EXPECT_GE(dropped, 990) << "the queue holds 10";
  EXPECT_GE(failed, 1) << "at least one batch ran into the deadline";
  EXPECT_EQ(exported + dropped + failed, 1000) << "every span is counted once";
}

// A collector that refuses at once must not turn the exporter into a busy loop: after a failed batch
// it waits (here the whole test: interval and backoff of a minute), the queue fills, and then spans
// are refused at admit(), before they are built. stop() tries once more and drops the rest.
TEST(OtlpHttpExporter, AfterARefusedBatchItBacksOffAndAFullQueueAdmitsNoMoreSpans) {
  MetricsRegistry metrics;
  OtlpOptions o;
  o.endpoint = "http://127.0.0.1:" + std::to_string(testing::free_loopback_port());  // nothing listens
  o.max_queue = 8;
  o.max_batch = 4;
  o.interval = std::chrono::minutes(1);
  o.max_backoff = std::chrono::minutes(1);
  auto e = OtlpHttpExporter::start(o, metrics);
  ASSERT_TRUE(static_cast<bool>(e));
  for (int i = 0; i < 4; ++i) (*e)->submit(sample_span(""));  // a full batch: sent at once, refused
  ASSERT_TRUE(testing::eventually([&] { return outcome(metrics, "failed") == 4; }));
  for (int i = 0; i < 8; ++i) {
    EXPECT_TRUE((*e)->admit()) << i;
    (*e)->submit(sample_span(""));
  }
  EXPECT_FALSE((*e)->admit()) << "the queue is full and nothing is being sent";
  EXPECT_EQ(outcome(metrics, "failed"), 4) << "two full batches waited out the backoff, not sent";
  EXPECT_EQ(outcome(metrics, "dropped"), 1) << "the span admit() refused";
  (*e)->stop();
  EXPECT_EQ(outcome(metrics, "failed"), 8) << "one last batch at stop";
  EXPECT_EQ(outcome(metrics, "dropped"), 5) << "and the rest dropped, not tried one by one";
  EXPECT_EQ(outcome(metrics, "exported"), 0);
}

TEST(OtlpHttpExporter, RefusesAnEndpointThatIsNotHttp) {
  MetricsRegistry metrics;
  for (const char* bad : {"https://collector:4318", "collector:4318", "http://"}) {
    OtlpOptions o;
    o.endpoint = bad;
    EXPECT_FALSE(static_cast<bool>(OtlpHttpExporter::start(o, metrics))) << bad;
  }
}

}  // namespace
}  // namespace pahlawan
