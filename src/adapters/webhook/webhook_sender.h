// WebhookSender: pushes each offer to the offered NGO's webhook_url, if it registered one.
//
// on_event (relay thread) only queues: delivery runs on the sender's own thread, so a slow or dead
// receiver never holds up the relay or the matcher. Each delivery is a POST of the event JSON with
// X-Pahlawan-Event-Id (the de-duplication key) and X-Pahlawan-Signature: t=<unix>,v1=<hex
// HMAC-SHA256 of "<t>.<body>" keyed with the NGO's webhook secret> (see webhook_signature). A non-2xx answer, a timeout
// or a refused connection is retried with exponential back-off and jitter, up to max_attempts; outcomes are counted in
// webhook_deliveries_total{outcome}. The queue is bounded (a full queue drops and counts).
// https:// URLs get TLS 1.2+ with the peer's certificate verified against the system's trust store
// (plus ca_file, for a private CA) and its name checked against the URL's host; a certificate that
// does not verify fails the delivery like a refused connection (retried, then counted failed).
// Thread-safety: on_event and stop from any thread.
#pragma once

#include <boost/asio/ssl/context.hpp>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <queue>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "common/metrics.h"
#include "common/status.h"
#include "ports/event_bus.h"
#include "ports/ngo_directory.h"

namespace pahlawan {

struct WebhookOptions {
  int max_attempts = 6;
  std::chrono::milliseconds base_backoff{1000};  // then 2×, 4×, … plus up to one base of jitter
  std::chrono::milliseconds timeout{5000};       // per attempt: connect, send, answer
  size_t max_queue = 10000;
  std::string ca_file;  // PEM of extra trusted CAs for https receivers; empty: the system's only
};

// Hex HMAC-SHA256 of `body` keyed with `key`.
std::string hmac_sha256_hex(const std::string& key, const std::string& body);
// The X-Pahlawan-Signature value: "t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">" (Stripe's
// scheme). Signing the time with the body lets a receiver refuse a captured delivery replayed later:
// it checks the MAC, then that t is within its tolerance (we document 5 minutes).
std::string webhook_signature(const std::string& secret, const std::string& body, int64_t unix_seconds);

class WebhookSender final : public EventSubscriber {
 public:
  // The sender with options.ca_file trusted too; fails if it cannot be loaded.
  static Result<std::unique_ptr<WebhookSender>> create(NgoDirectory& directory, MetricsRegistry& metrics,
                                                       WebhookOptions options = {});
  // Trusts the system's CAs only (options.ca_file is not read).
  WebhookSender(NgoDirectory& directory, MetricsRegistry& metrics, WebhookOptions options = {});
  ~WebhookSender() override;

  void start();
  void stop();  // ends the thread; deliveries still waiting for a retry are dropped
  void on_event(const Event& event) override;

 private:
  struct Delivery {
    std::chrono::steady_clock::time_point due;
    std::string url, secret, event_id, body;
    int attempt = 0;
    bool operator>(const Delivery& o) const { return due > o.due; }
  };
  void run();
  bool send(const Delivery& d);  // true: the receiver answered 2xx

  NgoDirectory& directory_;
  const WebhookOptions options_;
  Counter& delivered_;
  Counter& retried_;
  Counter& failed_;
  Counter& dropped_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::priority_queue<Delivery, std::vector<Delivery>, std::greater<>> queue_;  // GUARDED_BY(mu_)
  bool stopping_ = false;                                                       // GUARDED_BY(mu_)
  std::mt19937 jitter_rng_{std::random_device{}()};                             // sender thread only
  boost::asio::ssl::context tls_;  // the trust store; used from the sender thread only after start()
  std::thread thread_;
};

}  // namespace pahlawan
