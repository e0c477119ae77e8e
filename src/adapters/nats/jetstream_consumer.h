// JetStreamConsumer: a durable pull consumer of the event stream that feeds local subscribers — how
// an effect of the bus's events (matching a posted item, counting rescued food) happens once per
// cluster rather than once per process: replicas sharing a durable name share its messages.
//
// A thread fetches up to `batch` messages at a time, hands each event to every subscriber in stream
// order, calls their flush(), and only then acknowledges the batch: a crash before the ack means a
// redelivery, never a loss. The stream de-duplicates re-publishes by event id within its window; a
// re-publish after it (a long NATS outage, then the relay's replay) arrives again, so the consumer
// also remembers the last `remember` event ids and acknowledges a repeat without applying it.
// Survives NATS going away (cnats reconnects; the durable consumer's position is kept by the
// server). Thread-safety: construction and destruction from one thread; subscribers are called on
// the consumer's thread only.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "adapters/nats/nats_link.h"
#include "common/metrics.h"
#include "ports/event_bus.h"

struct __natsSubscription;
struct __natsMsg;

namespace pahlawan {

struct JetStreamConsumerOptions {
  JetStreamOptions link;
  std::string durable;                        // the consumer's name, shared by the replicas that share its work
  std::string filter = "pp.>";                // which subjects it takes
  int batch = 256;                            // messages per fetch
  std::chrono::milliseconds fetch_wait{100};  // how long a fetch waits for the first message
  std::chrono::milliseconds ack_wait{30000};  // unacknowledged this long: JetStream delivers it again
  size_t remember = 100000;                   // event ids kept to recognise a late re-publish
  int max_ack_pending = 0;                    // messages handed out and not yet acknowledged; 0: 4 batches
};

class JetStreamConsumer {
 public:
  // Starts the consumer's thread; succeeds while NATS is down too (it keeps trying).
  static Result<std::unique_ptr<JetStreamConsumer>> start(JetStreamConsumerOptions options,
                                                          std::vector<EventSubscriber*> subscribers,
                                                          MetricsRegistry* metrics);
  // A consumer for one subscriber whose effect ends later (DeferredEventSubscriber): each message is
  // acknowledged on its own, when the subscriber says its effect is over. Until then the consumer
  // tells JetStream every ack_wait / 3 that the message is still being worked on, so a long effect
  // (a webhook's retries) is not handed to another replica while this one lives; after a crash it is,
  // once ack_wait has passed.
  static Result<std::unique_ptr<JetStreamConsumer>> start_deferred(JetStreamConsumerOptions options,
                                                                   DeferredEventSubscriber& subscriber,
                                                                   MetricsRegistry* metrics);
  ~JetStreamConsumer();  // stops the thread (after the batch in hand) and closes the connection
  JetStreamConsumer(const JetStreamConsumer&) = delete;
  JetStreamConsumer& operator=(const JetStreamConsumer&) = delete;

 private:
  // The messages a deferred subscriber holds, by a key of their own. Shared with each `done`, which
  // may run after the consumer is gone: then `closed` is set and the message was dropped unacknowledged
  // (JetStream delivers it again). Acks happen under `mu`, so none runs while the connection closes.
  struct Held {
    std::mutex mu;
    bool closed = false;                                // GUARDED_BY(mu)
    uint64_t next = 0;                                  // GUARDED_BY(mu)
    std::unordered_map<uint64_t, __natsMsg*> messages;  // GUARDED_BY(mu)
    std::unordered_map<std::string, uint64_t> by_id;    // GUARDED_BY(mu): event id → key
  };
  JetStreamConsumer(JetStreamConsumerOptions options, std::vector<EventSubscriber*> subscribers)
      : options_(std::move(options)), subscribers_(std::move(subscribers)) {}
  static Result<std::unique_ptr<JetStreamConsumer>> launch(std::unique_ptr<JetStreamConsumer> c,
                                                           MetricsRegistry* metrics);
  void run();
  Status subscribe();
  void handle(__natsMsg** msgs, int count);
  void hand_over(__natsMsg** msgs, int count);  // to the deferred subscriber; takes the messages it holds
  // The span of taking `event` from the bus (inert when untraced); the event then carries its context.
  Span receive_span(Event& event) const;
  void still_working();                    // every held message: in progress
  bool first_time(const std::string& id);  // and remembers it
  void pause();                            // after a failure: reconnect_wait, or until stopped

  JetStreamConsumerOptions options_;
  std::vector<EventSubscriber*> subscribers_;
  DeferredEventSubscriber* deferred_ = nullptr;
  std::shared_ptr<Held> held_ = std::make_shared<Held>();
  struct __natsConnection* conn_ = nullptr;
  struct __jsCtx* js_ = nullptr;
  __natsSubscription* sub_ = nullptr;  // consumer thread only
  std::unordered_set<std::string> seen_;
  std::deque<std::string> seen_order_;  // oldest first, for forgetting
  std::atomic<bool> stopping_{false};
  std::mutex mu_;
  std::condition_variable stop_cv_;
  std::thread thread_;
  Counter* consumed_ = nullptr;
  Counter* repeats_ = nullptr;
  Counter* undecodable_ = nullptr;
};

}  // namespace pahlawan
