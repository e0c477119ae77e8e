// ApiHandler: the v1 contract over the application services — routing, authentication, request
// decoding, response rendering. Knows nothing of sockets (HttpServer feeds it ApiRequests).
// Thread-safe: handle() may run on any I/O thread; `respond` is called exactly once, possibly on
// another thread.
#pragma once

#include <atomic>
#include <functional>
#include <string>

#include "adapters/http/api_types.h"
#include "adapters/http/request_forwarder.h"
#include "adapters/http/sse_hub.h"
#include "app/authenticator.h"
#include "app/rate_limiter.h"
#include "app/registry_service.h"
#include "app/surplus_service.h"
#include "common/executor.h"
#include "common/metrics.h"
#include "engine/tracer.h"
#include "ports/secrets.h"

namespace pahlawan {

struct ApiHandlerDeps {
  Authenticator& auth;
  RateLimiter& limiter;
  RegistryService& registry;
  SurplusService& surplus;
  MetricsRegistry& metrics;
  SseHub& sse;
  const Secrets& secrets;  // fingerprints of keyed post bodies (the same digest as token hashes)
  Executor& reads;         // store reads that may block (listings, the event replay): never an I/O thread
  const std::atomic<bool>& ready;
  const Tracer& tracer;  // the request's span, and the context it hands on
};

// Every route the contract serves, as its template with the id segment as "{id}"
// ("/v1/surplus/{id}/claim"), and "unmatched" last: the names of requests' spans, log lines and
// metrics (a client making up paths makes up no label values). ApiResponse::route is one of these.
const std::vector<const char*>& api_routes();

class ApiHandler {
 public:
  explicit ApiHandler(ApiHandlerDeps deps) : d_(std::move(deps)) {}
  void handle(ApiRequest req, Respond respond);
  // Several replicas: commands answered kElsewhere are forwarded to the partition's owner.
  void set_forwarder(RequestForwarder* forwarder) { forwarder_ = forwarder; }

 private:
  void post_surplus(const Principal& p, ApiRequest& req, const std::string& tp, Respond respond);
  void browse(const Principal& p, const std::vector<std::pair<std::string, std::string>>& query, const std::string& tp,
              Respond respond);
  void browse_now(const Principal& p, const BrowseRequest& b, Respond respond);
  void register_provider(const Principal& p, ApiRequest& req, Respond respond);
  void register_ngo(const Principal& p, ApiRequest& req, Respond respond);
  void open_events(const Principal& p, const ApiRequest& req, Respond respond);
  void dlq_retry(const Principal& p, ApiRequest& req, const std::string& id, const std::string& tp, Respond respond);
  void dlq_assign(const Principal& p, ApiRequest& req, const std::string& id, const std::string& tp, Respond respond);

  ApiHandlerDeps d_;
  RequestForwarder* forwarder_ = nullptr;
};

}  // namespace pahlawan
