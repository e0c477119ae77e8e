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
  std::chrono::seconds ack_wait{30};          // unacknowledged this long: JetStream delivers it again
  size_t remember = 100000;                   // event ids kept to recognise a late re-publish
};

class JetStreamConsumer {
 public:
  // Starts the consumer's thread; succeeds while NATS is down too (it keeps trying).
  static Result<std::unique_ptr<JetStreamConsumer>> start(JetStreamConsumerOptions options,
                                                          std::vector<EventSubscriber*> subscribers,
                                                          MetricsRegistry* metrics);
  ~JetStreamConsumer();  // stops the thread (after the batch in hand) and closes the connection
  JetStreamConsumer(const JetStreamConsumer&) = delete;
  JetStreamConsumer& operator=(const JetStreamConsumer&) = delete;

 private:
  JetStreamConsumer(JetStreamConsumerOptions options, std::vector<EventSubscriber*> subscribers)
      : options_(std::move(options)), subscribers_(std::move(subscribers)) {}
  void run();
  Status subscribe();
  void handle(__natsMsg** msgs, int count);
  bool first_time(const std::string& id);  // and remembers it
  void pause();                            // after a failure: reconnect_wait, or until stopped

  JetStreamConsumerOptions options_;
  std::vector<EventSubscriber*> subscribers_;
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
