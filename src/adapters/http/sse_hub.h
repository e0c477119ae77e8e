// SseHub: the live half of GET /v1/events. It subscribes to the bus and turns each surplus.offered
// event into an SSE frame for the streams of the NGO the offer is for. A stream is a small queue and
// a wake-up callback, so thousands of idle streams cost a socket and a few hundred bytes each.
// Thread-safety: on_event runs on the relay thread; open/close and SseStream methods from any thread.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "ports/event_bus.h"

namespace pahlawan {

// "id: <event id>\nevent: offer\ndata: <surplus JSON>\n\n"
std::string sse_offer_frame(const Event& e);
// The NGO an offered event is for ("" when the payload has no pending offer).
std::string offered_ngo(const Event& e);

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
  void wake();
  const std::string ngo_id_;
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
  void on_event(const Event& event) override;
  std::shared_ptr<SseStream> open(const std::string& ngo_id);
  void close(const std::shared_ptr<SseStream>& stream);
  void close_all();  // draining: every stream ends
  size_t open_streams() const;

 private:
  mutable std::mutex mu_;
  std::unordered_map<std::string, std::vector<std::shared_ptr<SseStream>>> by_ngo_;  // GUARDED_BY(mu_)
};

}  // namespace pahlawan
