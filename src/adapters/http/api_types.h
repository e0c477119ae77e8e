// The HTTP adapter's own plain request/response values, so that routing and handlers stay free of
// Beast's types (and of its compile cost).
#pragma once

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "common/status.h"
#include "common/unique_function.h"

namespace pahlawan {

struct ApiRequest {
  std::string method;  // "GET", "POST", ...
  std::string target;  // origin-form: path and query
  std::string body;
  std::string authorization, idempotency_key, if_match, traceparent, tracestate, last_event_id;
  bool forwarded = false;                // sent by another replica (X-Pahlawan-Forwarded): never forwarded again
  bool duplicate_authorization = false;  // more than one Authorization header: refused, never guessed
};

class SseStream;

struct ApiResponse {
  int status = 200;
  std::string body;
  std::string content_type = "application/json";
  std::vector<std::pair<std::string, std::string>> headers;
  std::shared_ptr<SseStream> sse;   // set: the response is an event stream that HttpServer keeps open
  std::string forward_to;           // several replicas: the owner id of the replica that serves this request
  bool drop_connection = false;     // no answer at all: the connection is closed (a forward's lost answer)
  const char* route = "unmatched";  // the route template answered ("/v1/surplus/{id}/claim"), for logs and metrics
};

using Respond = UniqueFunction<void(ApiResponse)>;

// The contract's error model: status from the code, body {"error": {"code", "message"}}.
int http_status_of(ErrorCode code);
ApiResponse error_response(const Status& status);

}  // namespace pahlawan
