#include "adapters/http/request_forwarder.h"

#include <strings.h>

namespace pahlawan {

std::string replica_owner_id(const std::string& name, const std::string& advertise, const std::string& incarnation) {
  return name + "@" + advertise + "#" + incarnation;
}

std::optional<std::pair<std::string, std::string>> replica_address(const std::string& owner) {
  const auto at = owner.find('@');
  const auto hash = owner.rfind('#');
  if (at == std::string::npos || hash == std::string::npos || hash < at) return std::nullopt;
  const std::string address = owner.substr(at + 1, hash - at - 1);
  const auto colon = address.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == address.size()) return std::nullopt;
  std::string host = address.substr(0, colon);
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  return std::make_pair(host, address.substr(colon + 1));
}

namespace {
UpstreamOptions forward_options(Millis timeout) {
  UpstreamOptions o;
  o.timeout = timeout;
  o.max_in_flight = 4096;
  o.max_idle_connections = 64;
  o.body_limit = 64 * 1024 * 1024;  // answers are small; a listing is not forwarded
  o.what = "replica";
  return o;
}

// The answer's headers the client should see; the connection's own are this server's to set.
bool passes_through(const std::string& name) {
  for (const char* own : {"Content-Length", "Content-Type", "Connection", "Keep-Alive", "Transfer-Encoding", "Date",
                          "Server", "traceparent", "tracestate"}) {
    if (strcasecmp(name.c_str(), own) == 0) return false;
  }
  return true;
}
}  // namespace

RequestForwarder::RequestForwarder(Millis timeout, const Tracer& tracer)
    : client_(forward_options(timeout), "pp-forward"), tracer_(tracer) {}

void RequestForwarder::forward(const std::string& owner, const ApiRequest& req, Respond respond) {
  auto address = replica_address(owner);
  if (!address) {
    return respond(error_response(Status(ErrorCode::kUnavailable, "the partition's owner has no address; retry")));
  }
  UpstreamRequest up;
  up.method = req.method;
  up.target = req.target;
  up.body = req.body;
  up.repeatable = false;
  up.headers.emplace_back("X-Pahlawan-Forwarded", "1");
  if (!req.body.empty()) up.headers.emplace_back("Content-Type", "application/json");
  for (const auto& [name, value] : {std::pair<const char*, const std::string*>{"Authorization", &req.authorization},
                                    {"Idempotency-Key", &req.idempotency_key},
                                    {"If-Match", &req.if_match},
                                    {"tracestate", &req.tracestate}}) {
    if (!value->empty()) up.headers.emplace_back(name, *value);
  }
  // The hop to the owner is a span of its own, whose context the owner continues.
  Span span = tracer_.start("forward " + req.method, SpanKind::kClient, req.traceparent, req.tracestate);
  span.set("pahlawan.replica.owner", owner);
  if (!span.traceparent().empty()) up.headers.emplace_back("traceparent", span.traceparent());
  forwarded_.fetch_add(1);
  client_.send(address->first, address->second, std::move(up),
               [span = std::move(span), respond = std::move(respond)](Result<UpstreamResponse> r) mutable {
                 if (r) span.set("http.response.status_code", static_cast<int64_t>(r->status));
                 if (!r) span.fail(r.status().message());
                 span.end();
                 if (!r && r.status().code() == ErrorCode::kInternal) {
                   // Sent, and no answer came back: the owner may have applied it. The client is
                   // told nothing rather than something untrue, as if this replica had died.
                   ApiResponse dropped;
                   dropped.drop_connection = true;
                   return respond(std::move(dropped));
                 }
                 if (!r) {
                   return respond(error_response(Status(
                       ErrorCode::kUnavailable,
                       "the replica serving this place could not be reached (" + r.status().message() + "); retry")));
                 }
                 ApiResponse out;
                 out.status = r->status;
                 out.body = std::move(r->body);
                 if (const auto* type = r->header("Content-Type")) out.content_type = *type;
                 for (auto& [k, v] : r->headers) {
                   if (passes_through(k)) out.headers.emplace_back(std::move(k), std::move(v));
                 }
                 respond(std::move(out));
               });
}

}  // namespace pahlawan
