// OtlpHttpExporter: finished spans to an OpenTelemetry collector, over OTLP/HTTP with JSON bodies
// (POST <endpoint>/v1/traces). No OpenTelemetry SDK for C++ is packaged in Debian 12; this is the
// small part of one the server needs.
//
// submit() only appends to a bounded queue under a mutex: it never waits for the network, so a slow
// or dead collector costs a request nothing but the spans it loses. A full queue drops the span and
// counts it. One background thread sends the queue in batches (a full batch at once, otherwise what
// has gathered every `interval`), one batch in flight at a time, each with a deadline; a batch the
// collector did not take is counted failed and not sent again (traces are worth less than the memory
// and the time that keeping them would cost). After a failed batch the thread waits before the next
// one — `interval`, doubling with each failure in a row up to `max_backoff` — so a collector that
// refuses at once does not turn the exporter into a busy loop beside the request path; meanwhile the
// queue fills, and once it is full admit() says no and spans are not even recorded. stop() sends
// what is queued, one last time.
//
// Metrics: otlp_spans_total{outcome="exported|dropped|failed"}, otlp_queue_spans.
// Thread-safety: submit() from any thread; stop() once.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "common/metrics.h"
#include "common/status.h"
#include "net/upstream_client.h"
#include "ports/span_exporter.h"

namespace pahlawan {

struct OtlpOptions {
  std::string endpoint;  // http://host:port[/path]; the path defaults to /v1/traces
  // The resource's attributes: service.name, and service.instance.id (the replica's owner id).
  std::vector<std::pair<std::string, std::string>> resource;
  size_t max_queue = 8192;  // spans waiting; more are dropped
  size_t max_batch = 512;   // spans per request
  std::chrono::milliseconds interval{1000};
  std::chrono::milliseconds timeout{2000};  // one request, connect to answer
  std::chrono::milliseconds max_backoff{30000};
};

class OtlpHttpExporter final : public SpanExporter {
 public:
  static Result<std::unique_ptr<OtlpHttpExporter>> start(OtlpOptions options, MetricsRegistry& metrics);
  ~OtlpHttpExporter() override;
  bool admit() override;
  void submit(SpanRecord span) override;
  void stop();

 private:
  OtlpHttpExporter(OtlpOptions options, std::string host, std::string port, std::string path, MetricsRegistry& metrics);
  void run();
  bool send(std::vector<SpanRecord> batch);  // true: the collector answered 2xx

  const OtlpOptions options_;
  const std::string host_, port_, path_;
  UpstreamClient client_;
  Counter& exported_;
  Counter& dropped_;
  Counter& failed_;
  Gauge& queued_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<SpanRecord> queue_;  // GUARDED_BY(mu_)
  std::atomic<size_t> depth_{0};  // queue_.size(), for admit() without the lock
  bool stopping_ = false;         // GUARDED_BY(mu_)
  std::thread thread_;
};

}  // namespace pahlawan
