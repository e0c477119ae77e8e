// SseHub: the live half of GET /v1/events. It subscribes to the bus and turns each surplus.offered
// event into an SSE frame for the streams of the NGO the offer is for (the event's recipient). A
// stream is a small queue and a wake-up callback, so thousands of idle streams cost a socket and a
// few hundred bytes each.
//
// An NGO holds at most `max_per_ngo` streams: opening one more ends its oldest, so one token opening
// and dropping streams in a loop cannot grow the hub. Streams sit in a list per NGO and know their
// place in it, so closing one is O(1) under the mutex the relay also takes.
// Thread-safety: on_event runs on the relay thread; open/close and SseStream methods from any thread.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "engine/tracer.h"
#include "ports/event_bus.h"

namespace pahlawan {

// "id: <event id>\nevent: offer\ndata: <surplus JSON>\n\n"
std::string sse_offer_frame(const Event& e);

class SseStream {
 public:
  explicit SseStream(std::string ngo_id) : ngo_id_(std::move(ngo_id)) {}
  const std::string& ngo_id() const { return ngo_id_; }

  // Queues a frame unless one at or after its seq was queued already. While a replay from the store
  // runs, live frames wait aside and follow the replay in order.
  void push(int64_t seq, std::string frame, bool live = true);
  void begin_replay();
  void end_replay();
  // Moves the queued frames out; false once the stream is closed and drained.
  bool take(std::vector<std::string>& out);
  void close();
  // Called (from any thread) when a frame arrives or the stream closes.
  void on_wake(std::function<void()> wake);

 private:
  friend class SseHub;
  void wake();
  const std::string ngo_id_;
  // Its place in the hub's list for its NGO; GUARDED_BY(SseHub::mu_).
  std::list<std::shared_ptr<SseStream>>::iterator hub_pos_;
  bool in_hub_ = false;  // GUARDED_BY(SseHub::mu_)
  std::mutex mu_;
  std::function<void()> wake_;                          // GUARDED_BY(mu_)
  std::deque<std::string> frames_;                      // GUARDED_BY(mu_)
  std::vector<std::pair<int64_t, std::string>> aside_;  // GUARDED_BY(mu_): live frames during a replay
  int64_t last_seq_ = 0;                                // GUARDED_BY(mu_)
  bool replaying_ = false;                              // GUARDED_BY(mu_)
  bool closed_ = false;                                 // GUARDED_BY(mu_)
};

class SseHub final : public EventSubscriber {
 public:
  // tracer: a span per offer pushed to open streams (null: none).
  explicit SseHub(size_t max_per_ngo = 8, const Tracer* tracer = nullptr)
      : max_per_ngo_(max_per_ngo), tracer_(tracer) {}
  void on_event(const Event& event) override;
  std::shared_ptr<SseStream> open(const std::string& ngo_id);
  void close(const std::shared_ptr<SseStream>& stream);
  void close_all();  // draining: every stream ends
  size_t open_streams() const;

 private:
  const size_t max_per_ngo_;
  const Tracer* tracer_;
  mutable std::mutex mu_;
  std::unordered_map<std::string, std::list<std::shared_ptr<SseStream>>> by_ngo_;  // GUARDED_BY(mu_), oldest first
  size_t open_ = 0;                                                                // GUARDED_BY(mu_)
};

}  // namespace pahlawan
