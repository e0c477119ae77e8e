#include <boost/json.hpp>

#include "adapters/http/api_types.h"

namespace pahlawan {

int http_status_of(ErrorCode code) {
  switch (code) {
    case ErrorCode::kOk: return 200;
    case ErrorCode::kInvalidRequest: return 400;
    case ErrorCode::kUnauthorized: return 401;
    case ErrorCode::kForbidden: return 403;
    case ErrorCode::kNotFound: return 404;
    case ErrorCode::kMethodNotAllowed: return 405;
    case ErrorCode::kAlreadyClaimed: return 409;
    case ErrorCode::kConflict: return 409;
    case ErrorCode::kGone: return 410;
    case ErrorCode::kPayloadTooLarge: return 413;
    case ErrorCode::kRateLimited: return 429;
    case ErrorCode::kUnavailable: return 503;
    case ErrorCode::kInternal: return 500;
    case ErrorCode::kElsewhere: return 503;
  }
  return 500;
}

ApiResponse error_response(const Status& status) {
  ApiResponse r;
  r.status = http_status_of(status.code());
  std::string message = status.message();
  if (status.code() == ErrorCode::kElsewhere) {
    // What a client sees if the request cannot be forwarded (ApiHandler forwards it when it can).
    r.forward_to = status.message();
    message = "this place is served by another replica, which could not be reached; retry";
  }
  r.body = boost::json::serialize(boost::json::object{
      {"error", boost::json::object{{"code", error_code_name(status.code())}, {"message", message}}}});
  if (status.code() == ErrorCode::kUnavailable || status.code() == ErrorCode::kRateLimited ||
      status.code() == ErrorCode::kElsewhere) {
    r.headers.emplace_back("Retry-After", "1");
  }
  if (status.code() == ErrorCode::kUnauthorized) r.headers.emplace_back("WWW-Authenticate", "Bearer");
  return r;
}

}  // namespace pahlawan
