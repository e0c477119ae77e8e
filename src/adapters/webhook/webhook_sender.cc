#include "adapters/webhook/webhook_sender.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/url/parse.hpp>

#include "app/json_render.h"
#include "common/fault.h"
#include "common/thread_name.h"
#include "domain/validation.h"

namespace pahlawan {
namespace beast = boost::beast;
namespace http = beast::http;
namespace asio = boost::asio;

std::string hmac_sha256_hex(const std::string& key, const std::string& body) {
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()), reinterpret_cast<const unsigned char*>(body.data()),
       body.size(), mac, &len);
  static const char* kHex = "0123456789abcdef";
  std::string out;
  for (unsigned int i = 0; i < len; ++i) {
    out.push_back(kHex[mac[i] >> 4]);
    out.push_back(kHex[mac[i] & 15]);
  }
  return out;
}

std::string webhook_signature(const std::string& secret, const std::string& body, int64_t unix_seconds) {
  const std::string t = std::to_string(unix_seconds);
  return "t=" + t + ",v1=" + hmac_sha256_hex(secret, t + "." + body);
}

WebhookSender::WebhookSender(NgoDirectory& directory, MetricsRegistry& metrics, WebhookOptions options, Store* store)
    : directory_(directory),
      options_(options),
      delivered_(metrics.counter("webhook_deliveries_total", "Webhook deliveries by outcome", "outcome=\"delivered\"")),
      retried_(metrics.counter("webhook_deliveries_total", "Webhook deliveries by outcome", "outcome=\"retried\"")),
      failed_(metrics.counter("webhook_deliveries_total", "Webhook deliveries by outcome", "outcome=\"failed\"")),
      dropped_(metrics.counter("webhook_deliveries_total", "Webhook deliveries by outcome", "outcome=\"dropped\"")),
      store_(store),
      lookup_(options.resolve ? options.resolve : ResolveFn(system_resolve)),
      tls_(asio::ssl::context::tls_client) {
  tls_.set_options(asio::ssl::context::default_workarounds | asio::ssl::context::no_sslv2 |
                   asio::ssl::context::no_sslv3 | asio::ssl::context::no_tlsv1 | asio::ssl::context::no_tlsv1_1);
  tls_.set_verify_mode(asio::ssl::verify_peer);
  beast::error_code ec;
  // Without a system trust store (no ca-certificates) every https delivery fails verification and is
  // counted failed; ca_file, if given, is still trusted.
  tls_.set_default_verify_paths(ec);
}

Result<std::unique_ptr<WebhookSender>> WebhookSender::create(NgoDirectory& directory, MetricsRegistry& metrics,
                                                             WebhookOptions options, Store* store) {
  auto sender = std::make_unique<WebhookSender>(directory, metrics, options, store);
  if (!options.ca_file.empty()) {
    beast::error_code ec;
    sender->tls_.load_verify_file(options.ca_file, ec);
    if (ec) {
      return Status(ErrorCode::kInvalidRequest,
                    "cannot load --webhook-ca-file " + options.ca_file + ": " + ec.message());
    }
  }
  return sender;
}

WebhookSender::~WebhookSender() {
  stop();
}

namespace {
constexpr const char* kCursor = "webhooks";
constexpr const char* kCursorKept = "webhook_cursor_kept";  // meta: the cursor above exists (even at 0)
}  // namespace

Status WebhookSender::start() {
  if (store_) {
    auto cursor = store_->load_cursor(kCursor);
    if (!cursor) return cursor.status();
    auto kept = store_->get_meta(kCursorKept);
    if (!kept) return kept.status();
    if (!*kept) {
      // A data directory from before the sender kept a cursor: the relay's says what was handed over
      // live already; starting from 0 would send every offer still in the outbox again.
      auto relay = store_->load_cursor("relay");
      if (!relay) return relay.status();
      cursor = *relay;
      UnitOfWork mark;
      mark.meta.emplace_back(kCursorKept, "1");
      mark.cursor = std::make_pair(std::string(kCursor), *cursor);
      store_->commit(std::move(mark), [](Status) {});  // lost: the next start decides the same way
    }
    std::lock_guard lock(mu_);
    seen_ = saved_ = *cursor;
    // What was queued or waiting for a retry when the process stopped: everything after the cursor.
    for (;;) {
      auto batch = store_->read_outbox(seen_, 1024);
      if (!batch) return batch.status();
      if (batch->empty()) break;
      for (const auto& e : *batch) {
        std::function<void()> none;
        enqueue(e, none);
      }
    }
  }
  for (int i = 0; i < std::max(1, options_.workers); ++i) {
    threads_.emplace_back([this] {
      name_this_thread("pp-webhook");
      run();
    });
  }
  return Status::ok();
}

void WebhookSender::stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  for (auto& t : threads_) t.join();
  threads_.clear();
  std::unique_lock lock(mu_);
  save_cursor(lock);
}

void WebhookSender::on_event(const Event& event) {
  on_event(event, nullptr);
}

void WebhookSender::on_event(const Event& event, std::function<void()> done) {
  bool queued;
  {
    std::lock_guard lock(mu_);
    queued = enqueue(event, done);
  }
  if (!queued && done) done();  // nothing to deliver (or dropped): finished already
  // Only a new delivery wakes a worker: every event passes through here, and waking eight threads
  // per posted item cost the post path a quarter of its rate on two cores.
  if (queued) cv_.notify_one();
}

bool WebhookSender::enqueue(const Event& event, std::function<void()>& done) {
  // Replayed by the relay, or already re-queued (a consumer's redeliveries come out of order, and the
  // consumer itself recognises repeats).
  if (!done && event.seq != 0 && event.seq <= seen_) return false;
  seen_ = std::max(seen_, event.seq);
  if (event.type != "surplus.offered") return false;
  const auto ngo = directory_.find(event.recipient);
  if (!ngo || !ngo->webhook_url) return false;
  if (queued_ >= options_.max_queue) {
    dropped_.inc();
    return false;
  }
  Delivery d{std::chrono::steady_clock::now(),
             ngo->id,
             *ngo->webhook_url,
             ngo->webhook_secret.value_or(""),
             event.id,
             render_event(event),
             event.traceparent,
             done ? 0 : event.seq,  // the cursor follows the relay's deliveries only
             0,
             std::move(done)};
  if (d.seq != 0) outstanding_.insert(d.seq);
  ++queued_;
  receivers_[d.ngo_id].ready.push_back(std::move(d));
  return true;
}

std::function<void()> WebhookSender::finished(Delivery& d) {
  --queued_;
  outstanding_.erase(d.seq);
  ++unsaved_;
  return std::exchange(d.done, nullptr);
}

void WebhookSender::save_cursor(std::unique_lock<std::mutex>& lock) {
  // Past every event up to the oldest one still queued, in flight or waiting for a retry.
  const int64_t cursor = outstanding_.empty() ? seen_ : *outstanding_.begin() - 1;
  unsaved_ = 0;
  if (!store_ || cursor <= saved_) return;
  saved_ = cursor;
  UnitOfWork unit;
  unit.cursor = std::make_pair(std::string(kCursor), cursor);
  lock.unlock();
  store_->commit(std::move(unit), [](Status) {});  // a lost save means a re-delivery, which receivers absorb
  lock.lock();
}

bool WebhookSender::take(Delivery& out) {
  const auto now = std::chrono::steady_clock::now();
  while (!waiting_.empty() && waiting_.top().due <= now) {  // retries whose back-off has passed
    Delivery d = waiting_.top();
    waiting_.pop();
    receivers_[d.ngo_id].ready.push_back(std::move(d));
  }
  for (auto it = receivers_.begin(); it != receivers_.end(); ++it) {
    auto& r = it->second;
    if (r.ready.empty() || r.in_flight >= options_.per_receiver) continue;
    out = std::move(r.ready.front());
    r.ready.pop_front();
    ++r.in_flight;
    return true;
  }
  return false;
}

void WebhookSender::run() {
  std::unique_lock lock(mu_);
  while (!stopping_) {
    Delivery d;
    if (!take(d)) {
      if (waiting_.empty()) {
        cv_.wait(lock);
      } else {
        const auto due = waiting_.top().due;  // a copy: wait_until keeps a reference while others push
        cv_.wait_until(lock, due);
      }
      continue;
    }
    lock.unlock();
    bool ok = send(d);
    // The receiver has it, the sender has not recorded it: a crash here must mean a re-delivery after
    // the restart, never a loss. Error: the answer is taken as lost, so the delivery is retried.
    if (ok && PP_FAULT("webhook.after_send_before_record")) ok = false;
    lock.lock();
    auto r = receivers_.find(d.ngo_id);
    --r->second.in_flight;
    std::function<void()> done;
    if (ok) {
      delivered_.inc();
      done = finished(d);
    } else if (d.attempt + 1 < options_.max_attempts) {
      retried_.inc();
      const auto backoff = options_.base_backoff * (1 << std::min(d.attempt, 16));
      const auto jitter = std::chrono::milliseconds(
          std::uniform_int_distribution<int64_t>(0, options_.base_backoff.count())(jitter_rng_));
      d.attempt += 1;
      d.due = std::chrono::steady_clock::now() + backoff + jitter;
      waiting_.push(std::move(d));
    } else {
      failed_.inc();
      done = finished(d);
    }
    if (r->second.ready.empty() && r->second.in_flight == 0) receivers_.erase(r);
    if (unsaved_ >= options_.save_every) save_cursor(lock);
    cv_.notify_all();  // a slot of this receiver freed, or a retry was scheduled
    if (done) {
      lock.unlock();  // the ack goes out on the bus's connection: not while holding up the others
      done();
      lock.lock();
    }
  }
}

namespace {

using asio::use_awaitable;

// One POST over an established stream (plain or TLS); true on a 2xx answer.
template <class Stream>
asio::awaitable<int> post(Stream& stream, const std::string& host, const std::string& target,
                          const std::string& event_id, const std::string& signature, const std::string& traceparent,
                          const std::string& body) {
  http::request<http::string_body> req{http::verb::post, target, 11};
  req.set(http::field::host, host);
  req.set(http::field::content_type, "application/json");
  req.set(http::field::user_agent, "pahlawan-webhooks");
  req.set("X-Pahlawan-Event-Id", event_id);
  req.set("X-Pahlawan-Signature", signature);
  if (!traceparent.empty()) req.set("traceparent", traceparent);
  req.body() = body;
  req.prepare_payload();
  co_await http::async_write(stream, req, use_awaitable);
  beast::flat_buffer buffer;
  http::response<http::string_body> res;
  co_await http::async_read(stream, buffer, res, use_awaitable);
  co_return static_cast<int>(res.result_int());
}

}  // namespace

// Asynchronous operations on a private io_context run for at most the timeout: Beast's timeouts do
// not apply to blocking calls, and a receiver that accepts and then stalls (in the TLS handshake, or
// never answering) must not hold the sender's only thread.
bool WebhookSender::send(const Delivery& d) {
  Span span = options_.tracer ? options_.tracer->start("webhook POST", SpanKind::kClient, d.traceparent) : Span();
  span.set("pahlawan.ngo_id", d.ngo_id);
  span.set("pahlawan.attempt", static_cast<int64_t>(d.attempt + 1));
  const std::string traceparent = options_.tracer ? span.traceparent() : d.traceparent;
  int status = 0;
  const bool ok = attempt(d, traceparent, status);
  if (status) span.set("http.response.status_code", static_cast<int64_t>(status));
  if (!ok) span.fail(status ? "HTTP " + std::to_string(status) : "not delivered");
  return ok;
}

bool WebhookSender::attempt(const Delivery& d, const std::string& traceparent, int& status) {
  const auto deadline = std::chrono::steady_clock::now() + options_.timeout;
  auto url = boost::urls::parse_uri(d.url);
  if (!url || (url->scheme() != "http" && url->scheme() != "https")) return false;
  const bool tls = url->scheme() == "https";
  const std::string host(url->host());
  const unsigned long port =
      url->has_port() ? std::strtoul(std::string(url->port()).c_str(), nullptr, 10) : (tls ? 443ul : 80ul);
  if (port == 0 || port > 65535) return false;
  std::string target(url->encoded_target());
  if (target.empty()) target = "/";
  const std::string signature = webhook_signature(
      d.secret, d.body,
      std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count());

  // Resolved on every delivery, and checked against what the name resolves to now: a name registered
  // as public may later resolve to 127.0.0.1 or 169.254.169.254 (DNS rebinding).
  std::vector<asio::ip::tcp::endpoint> endpoints;
  for (const auto& address : lookup_.resolve(host, deadline)) {
    if (!options_.allow_private && is_private_host(address.to_string())) return false;
    endpoints.emplace_back(address, static_cast<unsigned short>(port));
  }
  if (endpoints.empty()) return false;  // did not resolve in time

  auto deliver = [&]() -> asio::awaitable<int> {
    auto ex = co_await asio::this_coro::executor;
    if (!tls) {
      beast::tcp_stream stream(ex);
      co_await stream.async_connect(endpoints, use_awaitable);
      co_return co_await post(stream, host, target, d.event_id, signature, traceparent, d.body);
    }
    beast::ssl_stream<beast::tcp_stream> stream(ex, tls_);
    // SNI, so a receiver behind a shared front end presents the right certificate; and the name the
    // certificate must carry.
    if (!SSL_set_tlsext_host_name(stream.native_handle(), host.c_str())) co_return 0;
    stream.set_verify_callback(asio::ssl::host_name_verification(host));
    co_await beast::get_lowest_layer(stream).async_connect(endpoints, use_awaitable);
    co_await stream.async_handshake(asio::ssl::stream_base::client, use_awaitable);
    // No TLS shutdown afterwards: waiting for the receiver's close_notify is one more way to stall,
    // and the answer is already in. Closing the socket is enough.
    co_return co_await post(stream, host, target, d.event_id, signature, traceparent, d.body);
  };

  asio::io_context io;
  // Refused, timed out, certificate rejected, or not HTTP: an exception, retried like any failure.
  asio::co_spawn(io, deliver(), [&status](std::exception_ptr e, int answered) { status = e ? 0 : answered; });
  io.run_until(deadline);
  // Still running at the deadline: destroying `io` destroys the coroutine, which closes its socket.
  return status >= 200 && status < 300;
}

}  // namespace pahlawan
