// Status and Result<T>: expected failures as values.
//
// Every failure the platform reports to a client has exactly one ErrorCode; the HTTP adapter maps codes
// to statuses in one place (adapters/http/error_mapping.cc). Exceptions from libraries are caught at the
// adapter that calls them and turned into a Status. Thread-safety: plain values.
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <variant>

namespace pahlawan {

enum class ErrorCode {
  kOk,
  kInvalidRequest,
  kUnauthorized,
  kForbidden,
  kNotFound,
  kMethodNotAllowed,
  kAlreadyClaimed,
  kConflict,
  kGone,
  kPayloadTooLarge,
  kRateLimited,
  kUnavailable,
  kInternal,
  // Several replicas: the cell's partition is owned by another replica, whose owner id is the
  // message. The HTTP adapter forwards the request there; a client never sees this code.
  kElsewhere,
};

// The stable, client-visible code string of the contract ("invalid_request", ...).
const char* error_code_name(ErrorCode code);

class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(ErrorCode code, std::string message) : code_(code), message_(std::move(message)) {}

  static Status ok() { return {}; }

  bool is_ok() const { return code_ == ErrorCode::kOk; }
  explicit operator bool() const { return is_ok(); }
  ErrorCode code() const { return code_; }
  const std::string& message() const { return message_; }

 private:
  ErrorCode code_ = ErrorCode::kOk;
  std::string message_;
};

inline Status invalid(std::string message) {
  return {ErrorCode::kInvalidRequest, std::move(message)};
}

// A value or the Status explaining why there is none. A Result never holds an ok Status.
template <class T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}         // NOLINT: implicit by design, like std::expected
  Result(Status status) : v_(std::move(status)) {}  // NOLINT

  bool is_ok() const { return std::holds_alternative<T>(v_); }
  explicit operator bool() const { return is_ok(); }

  T& value() & { return std::get<T>(v_); }
  const T& value() const& { return std::get<T>(v_); }
  T&& value() && { return std::get<T>(std::move(v_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() { return value(); }
  const T& operator*() const { return value(); }

  const Status& status() const {
    static const Status kOk;
    return is_ok() ? kOk : std::get<Status>(v_);
  }

 private:
  std::variant<T, Status> v_;
};

}  // namespace pahlawan
