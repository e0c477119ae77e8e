// WebhookSender: pushes each offer to the offered NGO's webhook_url, if it registered one.
//
// on_event (relay thread) only queues: delivery runs on the sender's own worker threads, so a slow or
// dead receiver never holds up the relay or the matcher. Each receiver (NGO) has its own queue and at
// most `per_receiver` deliveries in flight; `workers` threads serve all receivers, so one slow
// receiver holds at most `per_receiver` of them while the others keep delivering.
//
// At-least-once across restarts: with a store, the sender keeps its own cursor ("webhooks") in it,
// advanced only past events whose delivery is finished (delivered, or failed after max_attempts) —
// the low watermark of what is still queued or being retried. start() first re-queues every offer
// after that cursor from the outbox, so retries that were waiting when the process stopped (or
// crashed) are sent again; receivers de-duplicate by X-Pahlawan-Event-Id. Retention never deletes
// outbox rows that cursor has not passed. Each delivery is a POST of the event JSON with
// X-Pahlawan-Event-Id (the de-duplication key) and X-Pahlawan-Signature: t=<unix>,v1=<hex
// HMAC-SHA256 of "<t>.<body>" keyed with the NGO's webhook secret> (see webhook_signature). A non-2xx answer, a timeout
// or a refused connection is retried with exponential back-off and jitter, up to max_attempts; outcomes are counted in
// webhook_deliveries_total{outcome}. The queue is bounded (a full queue drops and counts: the one case
// where an offer is given up without an attempt).
// https:// URLs get TLS 1.2+ with the peer's certificate verified against the system's trust store
// (plus ca_file, for a private CA) and its name checked against the URL's host; a certificate that
// does not verify fails the delivery like a refused connection (retried, then counted failed).
// On a bus consumer instead (DeferredEventSubscriber, with --bus; then made without a store, so no
// cursor): each offer's `done` is called when its delivery is finished, and the consumer acknowledges
// the message then, so at-least-once across crashes and replicas rides on JetStream (docs/nats.md).
// Thread-safety: on_event and stop from any thread.
#pragma once

#include <boost/asio/ssl/context.hpp>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <queue>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "adapters/webhook/host_lookup.h"
#include "common/metrics.h"
#include "common/status.h"
#include "engine/tracer.h"
#include "ports/event_bus.h"
#include "ports/ngo_directory.h"
#include "ports/store.h"

namespace pahlawan {

struct WebhookOptions {
  int max_attempts = 6;
  std::chrono::milliseconds base_backoff{1000};  // then 2×, 4×, … plus up to one base of jitter
  std::chrono::milliseconds timeout{5000};       // per attempt: connect, send, answer
  size_t max_queue = 100000;
  std::string ca_file;   // PEM of extra trusted CAs for https receivers; empty: the system's only
  int workers = 8;       // delivery threads shared by all receivers
  int per_receiver = 2;  // deliveries in flight to one receiver at once
  int save_every = 64;   // finished deliveries between cursor saves (and at stop)
  // Deliver to loopback/private/link-local addresses too. Off: a name that resolves to one (DNS
  // rebinding, or a URL registered while it was allowed) fails the delivery.
  bool allow_private = false;
  // Name resolution, run by HostLookup within the attempt's timeout; empty: the system resolver.
  ResolveFn resolve;
  // A span per attempt, whose context goes to the receiver as traceparent; null: the event's own
  // traceparent is sent as it is.
  const Tracer* tracer = nullptr;
};

// Hex HMAC-SHA256 of `body` keyed with `key`.
std::string hmac_sha256_hex(const std::string& key, const std::string& body);
// The X-Pahlawan-Signature value: "t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">" (Stripe's
// scheme). Signing the time with the body lets a receiver refuse a captured delivery replayed later:
// it checks the MAC, then that t is within its tolerance (we document 5 minutes).
std::string webhook_signature(const std::string& secret, const std::string& body, int64_t unix_seconds);

class WebhookSender final : public EventSubscriber, public DeferredEventSubscriber {
 public:
  // The sender with options.ca_file trusted too; fails if it cannot be loaded.
  static Result<std::unique_ptr<WebhookSender>> create(NgoDirectory& directory, MetricsRegistry& metrics,
                                                       WebhookOptions options = {}, Store* store = nullptr);
  // Trusts the system's CAs only (options.ca_file is not read). store: null means no durability (the
  // cursor is neither read nor saved).
  WebhookSender(NgoDirectory& directory, MetricsRegistry& metrics, WebhookOptions options = {}, Store* store = nullptr);
  ~WebhookSender() override;

  // Re-queues the offers after the saved cursor, then starts the workers. REQUIRES: before the relay
  // publishes (so the replay and live events meet without a gap).
  Status start();
  // Ends the workers and saves the cursor; deliveries waiting for a retry stay after the cursor and
  // are sent again by the next start().
  void stop();
  void on_event(const Event& event) override;
  // From a bus consumer: `done` once the offer's delivery is finished (delivered, failed, dropped), or
  // at once for an event that needs none. Events are not filtered by seq here (redeliveries come out
  // of order); the consumer recognises repeats by event id.
  void on_event(const Event& event, std::function<void()> done) override;

 private:
  struct Delivery {
    std::chrono::steady_clock::time_point due;
    std::string ngo_id, url, secret, event_id, body, traceparent;
    int64_t seq = 0;
    int attempt = 0;
    std::function<void()> done;  // a bus consumer's, for a delivery from one
    bool operator>(const Delivery& o) const { return due > o.due; }
  };
  struct Receiver {
    std::deque<Delivery> ready;
    int in_flight = 0;
  };
  // REQUIRES: mu_ held; true if a delivery was queued (then it owns `done`).
  bool enqueue(const Event& event, std::function<void()>& done);
  // REQUIRES: mu_ held; the event's delivery is over. Returns its bus consumer's `done`, for the
  // caller to run once mu_ is released (it acknowledges the message).
  std::function<void()> finished(Delivery& d);
  bool take(Delivery& out);                              // REQUIRES: mu_ held; a ready delivery of a receiver with room
  void save_cursor(std::unique_lock<std::mutex>& lock);  // REQUIRES: mu_ held (released while committing)
  void run();
  bool send(const Delivery& d);  // true: the receiver answered 2xx (one attempt, as a span)
  // One attempt at `d`, sending `traceparent`; `status` gets the receiver's HTTP status (0: none).
  bool attempt(const Delivery& d, const std::string& traceparent, int& status);

  NgoDirectory& directory_;
  const WebhookOptions options_;
  Counter& delivered_;
  Counter& retried_;
  Counter& failed_;
  Counter& dropped_;
  Store* const store_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::priority_queue<Delivery, std::vector<Delivery>, std::greater<>> waiting_;  // GUARDED_BY(mu_): retries
  std::unordered_map<std::string, Receiver> receivers_;                           // GUARDED_BY(mu_): by NGO
  std::set<int64_t> outstanding_;                    // GUARDED_BY(mu_): seqs queued, in flight or waiting for a retry
  size_t queued_ = 0;                                // GUARDED_BY(mu_): deliveries not yet finished
  int64_t seen_ = 0;                                 // GUARDED_BY(mu_): highest seq handed to the sender
  int64_t saved_ = 0;                                // GUARDED_BY(mu_): cursor last saved
  int unsaved_ = 0;                                  // GUARDED_BY(mu_): finishes since then
  bool stopping_ = false;                            // GUARDED_BY(mu_)
  std::mt19937 jitter_rng_{std::random_device{}()};  // GUARDED_BY(mu_)
  HostLookup lookup_;
  boost::asio::ssl::context tls_;  // the trust store; read-only once the workers run
  std::vector<std::thread> threads_;
};

}  // namespace pahlawan
