#include "adapters/otlp/otlp_http_exporter.h"

#include <boost/url/parse.hpp>

#include <future>

#include "adapters/otlp/otlp_json.h"
#include "common/thread_name.h"

namespace pahlawan {

Result<std::unique_ptr<OtlpHttpExporter>> OtlpHttpExporter::start(OtlpOptions options, MetricsRegistry& metrics) {
  auto url = boost::urls::parse_uri(options.endpoint);
  if (!url || url->scheme() != "http" || url->host().empty()) {
    return Status(ErrorCode::kInvalidRequest, "--otlp-endpoint must be http://host:port[/path]");
  }
  const std::string port = url->has_port() ? std::string(url->port()) : "80";
  std::string path(url->encoded_path());
  if (path.empty() || path == "/") path = "/v1/traces";
  auto e = std::unique_ptr<OtlpHttpExporter>(
      new OtlpHttpExporter(std::move(options), std::string(url->host()), port, std::move(path), metrics));
  e->thread_ = std::thread([p = e.get()] {
    name_this_thread("pp-otlp");
    p->run();
  });
  return e;
}

namespace {
UpstreamOptions upstream_options(std::chrono::milliseconds timeout) {
  UpstreamOptions o;
  o.timeout = timeout;
  o.max_in_flight = 2;  // one batch at a time; a spare for the last one at stop
  o.max_idle_connections = 1;
  o.what = "trace collector";
  return o;
}
}  // namespace

OtlpHttpExporter::OtlpHttpExporter(OtlpOptions options, std::string host, std::string port, std::string path,
                                   MetricsRegistry& metrics)
    : options_(std::move(options)),
      host_(std::move(host)),
      port_(std::move(port)),
      path_(std::move(path)),
      client_(upstream_options(options_.timeout), "pp-otlp-http"),
      exported_(metrics.counter("otlp_spans_total", "Trace spans by what became of them", "outcome=\"exported\"")),
      dropped_(metrics.counter("otlp_spans_total", "Trace spans by what became of them", "outcome=\"dropped\"")),
      failed_(metrics.counter("otlp_spans_total", "Trace spans by what became of them", "outcome=\"failed\"")),
      queued_(metrics.gauge("otlp_queue_spans", "Finished spans waiting to be sent to the collector")) {}

OtlpHttpExporter::~OtlpHttpExporter() {
  stop();
}

bool OtlpHttpExporter::admit() {
  if (depth_.load(std::memory_order_relaxed) < options_.max_queue) return true;
  dropped_.inc();
  return false;
}

void OtlpHttpExporter::submit(SpanRecord span) {
  std::unique_lock lock(mu_);
  if (stopping_ || queue_.size() >= options_.max_queue) {
    lock.unlock();
    dropped_.inc();
    return;
  }
  queue_.push_back(std::move(span));
  const size_t n = queue_.size();
  depth_.store(n, std::memory_order_relaxed);
  lock.unlock();
  queued_.set(static_cast<double>(n));
  if (n == options_.max_batch) cv_.notify_one();  // a full batch goes at once
}

void OtlpHttpExporter::stop() {
  {
    std::lock_guard lock(mu_);
    if (stopping_ && !thread_.joinable()) return;
    stopping_ = true;
  }
  cv_.notify_one();
  if (thread_.joinable()) thread_.join();
  client_.stop();
}

void OtlpHttpExporter::run() {
  std::unique_lock lock(mu_);
  std::chrono::milliseconds backoff{0};  // after failures in a row: how long before the next batch
  while (true) {
    if (backoff.count() > 0) {
      cv_.wait_for(lock, backoff, [this] { return stopping_; });
    } else {
      cv_.wait_for(lock, options_.interval, [this] { return stopping_ || queue_.size() >= options_.max_batch; });
    }
    // What has gathered goes; at stop, everything queued, unless the collector fails a batch (then
    // the rest is dropped: a dead collector must not hold the drain up by a timeout per batch).
    do {
      if (queue_.empty()) break;
      const size_t n = std::min(queue_.size(), options_.max_batch);
      std::vector<SpanRecord> batch(std::make_move_iterator(queue_.begin()),
                                    std::make_move_iterator(queue_.begin() + static_cast<std::ptrdiff_t>(n)));
      queue_.erase(queue_.begin(), queue_.begin() + static_cast<std::ptrdiff_t>(n));
      depth_.store(queue_.size(), std::memory_order_relaxed);
      queued_.set(static_cast<double>(queue_.size()));
      lock.unlock();
      const bool ok = send(std::move(batch));
      (ok ? exported_ : failed_).inc(static_cast<double>(n));
      lock.lock();
      backoff =
          ok ? std::chrono::milliseconds{0} : std::min(options_.max_backoff, std::max(options_.interval, 2 * backoff));
      if (!ok && stopping_) {
        dropped_.inc(static_cast<double>(queue_.size()));
        queue_.clear();
        depth_.store(0, std::memory_order_relaxed);
      }
    } while (backoff.count() == 0 && (stopping_ || queue_.size() >= options_.max_batch));
    if (stopping_) return;
  }
}

bool OtlpHttpExporter::send(std::vector<SpanRecord> batch) {
  UpstreamRequest req;
  req.method = "POST";
  req.target = path_;
  req.headers.emplace_back("Content-Type", "application/json");
  req.body = otlp_json_body(options_.resource, batch);
  req.repeatable = true;  // a collector takes a repeated batch as more spans, never as harm
  std::promise<bool> answered;
  auto done = answered.get_future();
  client_.send(host_, port_, std::move(req), [&answered](Result<UpstreamResponse> r) {
    answered.set_value(r && r->status >= 200 && r->status < 300);
  });
  return done.get();  // the client answers every call, by its deadline at the latest
}

}  // namespace pahlawan
