#include "adapters/http/sse_hub.h"

#include <algorithm>

namespace pahlawan {

std::string sse_offer_frame(const Event& e) {
  // The payload is one line of JSON (our renderer emits no newlines), as SSE's data field requires.
  return "id: " + e.id + "\nevent: offer\ndata: " + e.data_json + "\n\n";
}

void SseStream::on_wake(std::function<void()> wake) {
  std::lock_guard lock(mu_);
  wake_ = std::move(wake);
}

void SseStream::wake() {
  std::function<void()> w;
  {
    std::lock_guard lock(mu_);
    w = wake_;
  }
  if (w) w();
}

void SseStream::push(int64_t seq, std::string frame, bool live) {
  {
    std::lock_guard lock(mu_);
    if (closed_) return;
    if (live && replaying_) {
      aside_.emplace_back(seq, std::move(frame));
      return;
    }
    if (seq <= last_seq_) return;
    last_seq_ = seq;
    frames_.push_back(std::move(frame));
  }
  wake();
}

void SseStream::begin_replay() {
  std::lock_guard lock(mu_);
  replaying_ = true;
}

void SseStream::end_replay() {
  {
    std::lock_guard lock(mu_);
    replaying_ = false;
    for (auto& [seq, frame] : aside_) {
      if (seq <= last_seq_) continue;
      last_seq_ = seq;
      frames_.push_back(std::move(frame));
    }
    aside_.clear();
  }
  wake();
}

bool SseStream::take(std::vector<std::string>& out) {
  std::lock_guard lock(mu_);
  while (!frames_.empty()) {
    out.push_back(std::move(frames_.front()));
    frames_.pop_front();
  }
  return !closed_ || !out.empty();
}

void SseStream::close() {
  {
    std::lock_guard lock(mu_);
    closed_ = true;
  }
  wake();
}

void SseHub::on_event(const Event& event) {
  if (event.type != "surplus.offered" || event.recipient.empty()) return;
  std::vector<std::shared_ptr<SseStream>> targets;
  {
    std::lock_guard lock(mu_);
    auto it = by_ngo_.find(event.recipient);
    if (it == by_ngo_.end()) return;
    targets.assign(it->second.begin(), it->second.end());
  }
  Span span = tracer_ ? tracer_->start("sse push", SpanKind::kProducer, event.traceparent) : Span();
  span.set("pahlawan.ngo_id", event.recipient);
  span.set("pahlawan.streams", static_cast<int64_t>(targets.size()));
  const std::string frame = sse_offer_frame(event);
  for (auto& s : targets) s->push(event.seq, frame);
}

std::shared_ptr<SseStream> SseHub::open(const std::string& ngo_id) {
  auto s = std::make_shared<SseStream>(ngo_id);
  std::shared_ptr<SseStream> evicted;
  {
    std::lock_guard lock(mu_);
    auto& streams = by_ngo_[ngo_id];
    if (streams.size() >= max_per_ngo_) {
      evicted = std::move(streams.front());
      evicted->in_hub_ = false;
      streams.pop_front();
      --open_;
    }
    s->hub_pos_ = streams.insert(streams.end(), s);
    s->in_hub_ = true;
    ++open_;
  }
  if (evicted) evicted->close();  // its writer wakes, sends what is queued, and ends the response
  return s;
}

void SseHub::close(const std::shared_ptr<SseStream>& stream) {
  std::lock_guard lock(mu_);
  if (!stream->in_hub_) return;
  auto it = by_ngo_.find(stream->ngo_id());
  it->second.erase(stream->hub_pos_);
  stream->in_hub_ = false;
  --open_;
  if (it->second.empty()) by_ngo_.erase(it);
}

void SseHub::close_all() {
  std::vector<std::shared_ptr<SseStream>> all;
  {
    std::lock_guard lock(mu_);
    for (auto& [ngo, streams] : by_ngo_) all.insert(all.end(), streams.begin(), streams.end());
  }
  for (auto& s : all) s->close();
}

size_t SseHub::open_streams() const {
  std::lock_guard lock(mu_);
  return open_;
}

}  // namespace pahlawan
