#include "adapters/nats/jetstream_consumer.h"

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

}  // namespace

Result<std::unique_ptr<JetStreamConsumer>> JetStreamConsumer::start(JetStreamConsumerOptions options,
                                                                    std::vector<EventSubscriber*> subscribers,
                                                                    MetricsRegistry* metrics) {
  if (options.durable.empty()) return Status(ErrorCode::kInvalidRequest, "a durable consumer needs a name");
  std::unique_ptr<JetStreamConsumer> c(new JetStreamConsumer(std::move(options), std::move(subscribers)));
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
  if (sub_) natsSubscription_Destroy(sub_);
  if (js_) jsCtx_Destroy(js_);
  if (conn_) natsConnection_Destroy(conn_);
}

void JetStreamConsumer::pause() {
  std::unique_lock lock(mu_);
  stop_cv_.wait_for(lock, options_.link.reconnect_wait, [this] { return stopping_.load(); });
}

// The durable pull consumer, made (or found: it outlives this process) once NATS is reachable.
Status JetStreamConsumer::subscribe() {
  if (Status st = nats_ensure_stream(conn_, js_, options_.link); !st) return st;
  jsSubOptions so;
  jsSubOptions_Init(&so);
  so.Stream = options_.link.stream.c_str();
  so.Config.AckPolicy = js_AckExplicit;
  so.Config.DeliverPolicy = js_DeliverAll;
  so.Config.AckWait = std::chrono::duration_cast<std::chrono::nanoseconds>(options_.ack_wait).count();
  so.Config.MaxAckPending = std::max(options_.batch * 4, 1024);
  jsErrCode jerr = static_cast<jsErrCode>(0);
  natsStatus s = js_PullSubscribe(&sub_, js_, options_.filter.c_str(), options_.durable.c_str(), nullptr, &so, &jerr);
  if (s != NATS_OK) {
    sub_ = nullptr;
    return nats_error("cannot create the JetStream consumer " + options_.durable, s);
  }
  return Status::ok();
}

void JetStreamConsumer::run() {
  name_this_thread("pp-consume");
  bool reported = false;
  while (!stopping_) {
    if (!sub_) {
      if (Status st = subscribe(); !st) {
        if (!reported)
          std::fprintf(stderr, "jetstream consumer %s: %s (retrying)\n", options_.durable.c_str(),
                       st.message().c_str());
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
      handle(list.Msgs, list.Count);
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

}  // namespace pahlawan
