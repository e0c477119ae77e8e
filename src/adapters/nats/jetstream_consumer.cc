#include "adapters/nats/jetstream_consumer.h"
#include "common/log.h"

#include <nats/nats.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>

#include "app/json_render.h"
#include "common/thread_name.h"

namespace pahlawan {

namespace {

// An event from a message: the JSON body, and beside it the headers and the subject's region.
std::optional<Event> decode(natsMsg* msg) {
  auto e =
      parse_rendered_event(std::string_view(natsMsg_GetData(msg), static_cast<size_t>(natsMsg_GetDataLength(msg))));
  if (!e) return std::nullopt;
  const char* value = nullptr;
  if (natsMsgHeader_Get(msg, kSeqHeader, &value) == NATS_OK && value) e->seq = std::strtoll(value, nullptr, 10);
  if (natsMsgHeader_Get(msg, kRecipientHeader, &value) == NATS_OK && value) e->recipient = value;
  const std::string subject = natsMsg_GetSubject(msg);
  const auto dot = subject.rfind('.');
  if (dot != std::string::npos && subject.compare(dot + 1, std::string::npos, "global") != 0) {
    e->region = subject.substr(dot + 1);
  }
  return e;
}

// The message's position in the stream (0 if it carries no JetStream metadata).
uint64_t stream_seq(natsMsg* msg) {
  jsMsgMetaData* meta = nullptr;
  if (natsMsg_GetMetaData(&meta, msg) != NATS_OK || !meta) return 0;
  const uint64_t seq = meta->Sequence.Stream;
  jsMsgMetaData_Destroy(meta);
  return seq;
}

}  // namespace

Result<std::unique_ptr<JetStreamConsumer>> JetStreamConsumer::start(JetStreamConsumerOptions options,
                                                                    std::vector<EventSubscriber*> subscribers,
                                                                    MetricsRegistry* metrics) {
  return launch(std::unique_ptr<JetStreamConsumer>(new JetStreamConsumer(std::move(options), std::move(subscribers))),
                metrics);
}

Result<std::unique_ptr<JetStreamConsumer>> JetStreamConsumer::start_deferred(JetStreamConsumerOptions options,
                                                                             DeferredEventSubscriber& subscriber,
                                                                             MetricsRegistry* metrics) {
  std::unique_ptr<JetStreamConsumer> c(new JetStreamConsumer(std::move(options), {}));
  c->deferred_ = &subscriber;
  return launch(std::move(c), metrics);
}

Result<std::unique_ptr<JetStreamConsumer>> JetStreamConsumer::launch(std::unique_ptr<JetStreamConsumer> c,
                                                                     MetricsRegistry* metrics) {
  if (c->options_.durable.empty()) return Status(ErrorCode::kInvalidRequest, "a durable consumer needs a name");
  if (metrics) {
    const std::string label = "consumer=\"" + c->options_.durable + "\"";
    c->consumed_ = &metrics->counter("bus_consumed_total", "Events a JetStream consumer applied", label);
    c->repeats_ =
        &metrics->counter("bus_consumer_repeats_total",
                          "Events a JetStream consumer had applied already (acknowledged, not applied again)", label);
    c->undecodable_ =
        &metrics->counter("bus_consumer_undecodable_total", "Messages a JetStream consumer could not read", label);
  }
  auto conn = nats_connect(c->options_.link);
  if (!conn) return conn.status();
  c->conn_ = *conn;
  natsStatus s = natsConnection_JetStream(&c->js_, c->conn_, nullptr);
  if (s != NATS_OK) return nats_error("cannot open JetStream", s);
  c->thread_ = std::thread([raw = c.get()] { raw->run(); });
  return c;
}

JetStreamConsumer::~JetStreamConsumer() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  stop_cv_.notify_all();
  if (thread_.joinable()) thread_.join();
  {
    // Held messages go unacknowledged: JetStream hands them out again after ack_wait.
    std::lock_guard lock(held_->mu);
    held_->closed = true;
    for (auto& [key, msg] : held_->messages) natsMsg_Destroy(msg);
    held_->messages.clear();
    held_->by_id.clear();
  }
  if (conn_) (void)natsConnection_FlushTimeout(conn_, 2000);  // the last acks `done` sent
  if (sub_) natsSubscription_Destroy(sub_);
  if (js_) jsCtx_Destroy(js_);
  if (conn_) natsConnection_Destroy(conn_);
}

void JetStreamConsumer::pause() {
  std::unique_lock lock(mu_);
  stop_cv_.wait_for(lock, options_.link.reconnect_wait, [this] { return stopping_.load(); });
}

// The durable pull consumer, made (or found: it outlives this process) once NATS is reachable. Its
// settings are written first (created, or updated to this process's): binding with settings that
// differ from the stored consumer's would be refused, and a changed --bus-ack-wait-ms would then
// stop every consumer for good.
Status JetStreamConsumer::subscribe() {
  if (Status st = nats_ensure_stream(conn_, js_, options_.link); !st) return st;
  jsConsumerConfig cc;
  jsConsumerConfig_Init(&cc);
  cc.Durable = options_.durable.c_str();
  cc.FilterSubject = options_.filter.c_str();
  cc.AckPolicy = js_AckExplicit;
  cc.DeliverPolicy = js_DeliverAll;
  cc.AckWait = std::chrono::duration_cast<std::chrono::nanoseconds>(options_.ack_wait).count();
  cc.MaxAckPending = options_.max_ack_pending > 0 ? options_.max_ack_pending : std::max(options_.batch * 4, 1024);
  jsErrCode jerr = static_cast<jsErrCode>(0);
  jsConsumerInfo* info = nullptr;
  natsStatus s = js_UpdateConsumer(&info, js_, options_.link.stream.c_str(), &cc, nullptr, &jerr);
  if (s != NATS_OK) s = js_AddConsumer(&info, js_, options_.link.stream.c_str(), &cc, nullptr, &jerr);
  if (info) jsConsumerInfo_Destroy(info);
  if (s != NATS_OK) return nats_error("cannot create the JetStream consumer " + options_.durable, s);
  jsSubOptions so;
  jsSubOptions_Init(&so);
  so.Stream = options_.link.stream.c_str();
  so.Consumer = options_.durable.c_str();  // bind to it as it now is
  s = js_PullSubscribe(&sub_, js_, options_.filter.c_str(), options_.durable.c_str(), nullptr, &so, &jerr);
  if (s != NATS_OK) {
    sub_ = nullptr;
    return nats_error("cannot create the JetStream consumer " + options_.durable, s);
  }
  return Status::ok();
}

void JetStreamConsumer::run() {
  name_this_thread("pp-consume");
  bool reported = false;
  auto next_sweep = std::chrono::steady_clock::now() + options_.ack_wait / 3;
  while (!stopping_) {
    if (deferred_ && std::chrono::steady_clock::now() >= next_sweep) {
      still_working();
      next_sweep = std::chrono::steady_clock::now() + options_.ack_wait / 3;
    }
    if (!sub_) {
      if (Status st = subscribe(); !st) {
        if (!reported)
          log_line(LogLevel::kWarn, "jetstream consumer: retrying",
                   {{"consumer", options_.durable}, {"error", st.message()}});
        reported = true;
        pause();
        continue;
      }
      reported = false;
    }
    natsMsgList list{};
    jsErrCode jerr = static_cast<jsErrCode>(0);
    natsStatus s = natsSubscription_Fetch(&list, sub_, options_.batch, options_.fetch_wait.count(), &jerr);
    if (s == NATS_OK) {
      if (deferred_) {
        hand_over(list.Msgs, list.Count);
      } else {
        handle(list.Msgs, list.Count);
      }
      natsMsgList_Destroy(&list);
    } else if (s != NATS_TIMEOUT) {
      pause();  // NATS away: cnats reconnects meanwhile, and the fetch is tried again
    }
  }
}

bool JetStreamConsumer::first_time(const std::string& id) {
  if (!seen_.insert(id).second) return false;
  seen_order_.push_back(id);
  if (seen_order_.size() > options_.remember) {
    seen_.erase(seen_order_.front());
    seen_order_.pop_front();
  }
  return true;
}

void JetStreamConsumer::handle(natsMsg** msgs, int count) {
  for (int i = 0; i < count; ++i) {
    auto event = decode(msgs[i]);
    if (!event) {
      if (undecodable_) undecodable_->inc();
      continue;  // acknowledged below: a message nobody can read would come back forever
    }
    if (!first_time(event->id)) {
      if (repeats_) repeats_->inc();
      continue;
    }
    Span span = receive_span(*event);
    for (auto* sub : subscribers_) sub->on_event(*event);
    if (consumed_) consumed_->inc();
  }
  for (auto* sub : subscribers_) sub->flush();
  // Only now: what the subscribers did is done before JetStream forgets the messages. The flush (a
  // round trip) returns once the server has read the acks, so a consumer stopped after this batch
  // is not handed it again. An ack lost anyway means a redelivery the id memory absorbs.
  for (int i = 0; i < count; ++i) (void)natsMsg_Ack(msgs[i], nullptr);
  (void)natsConnection_FlushTimeout(conn_, 2000);
}

void JetStreamConsumer::hand_over(natsMsg** msgs, int count) {
  for (int i = 0; i < count; ++i) {
    auto event = decode(msgs[i]);
    if (!event) {
      if (undecodable_) undecodable_->inc();
      (void)natsMsg_Ack(msgs[i], nullptr);  // a message nobody can read would come back forever
      continue;
    }
    {
      std::lock_guard lock(held_->mu);
      if (auto it = held_->by_id.find(event->id); it != held_->by_id.end()) {
        natsMsg*& old = held_->messages[it->second];
        if (stream_seq(old) == stream_seq(msgs[i])) {
          // The same message delivered again while its effect goes on here (an in-progress signal
          // came late): the newer delivery replaces the held one, and `done` acknowledges that.
          natsMsg_Destroy(old);
          old = msgs[i];
          msgs[i] = nullptr;
        } else {
          (void)natsMsg_Ack(msgs[i], nullptr);  // a re-publish of an event in hand: nothing more to do
        }
        if (repeats_) repeats_->inc();
        continue;
      }
    }
    if (!first_time(event->id)) {
      if (repeats_) repeats_->inc();
      (void)natsMsg_Ack(msgs[i], nullptr);  // its effect ended here before: nothing to do
      continue;
    }
    uint64_t key;
    {
      std::lock_guard lock(held_->mu);
      key = ++held_->next;
      held_->messages.emplace(key, msgs[i]);
      held_->by_id.emplace(event->id, key);
    }
    msgs[i] = nullptr;  // held now: natsMsgList_Destroy skips it
    if (consumed_) consumed_->inc();
    Span span = receive_span(*event);
    deferred_->on_event(*event, [held = held_, key, id = event->id] {
      std::lock_guard lock(held->mu);
      auto it = held->messages.find(key);
      if (held->closed || it == held->messages.end()) return;
      (void)natsMsg_Ack(it->second, nullptr);
      natsMsg_Destroy(it->second);
      held->messages.erase(it);
      held->by_id.erase(id);
    });
  }
  (void)natsConnection_FlushTimeout(conn_, 2000);
}

Span JetStreamConsumer::receive_span(Event& event) const {
  if (!options_.link.tracer || event.traceparent.empty()) return Span();
  Span span = options_.link.tracer->start("receive " + event.type, SpanKind::kConsumer, event.traceparent);
  span.set("messaging.system", "nats");
  span.set("messaging.consumer.group.name", options_.durable);
  span.set("messaging.message.id", event.id);
  event.traceparent = span.traceparent();  // what the subscribers do continues this span
  return span;
}

void JetStreamConsumer::still_working() {
  std::lock_guard lock(held_->mu);
  for (auto& [key, msg] : held_->messages) (void)natsMsg_InProgress(msg, nullptr);
}

}  // namespace pahlawan
