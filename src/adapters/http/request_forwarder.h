// RequestForwarder: several replicas (docs/replicas.md). A command for a cell whose partition another
// replica holds is sent on to that replica as it came (method, path, body, the headers the contract
// reads), and its answer is the client's answer. The request is marked X-Pahlawan-Forwarded, so the
// replica it reaches never forwards it again: a partition changing hands meanwhile is a 503 with
// Retry-After, and the client's retry finds the new owner.
//
// A forwarded request is never sent twice by this side (a POST the owner may have applied before the
// connection broke). A failure to reach the owner is a 503 the client retries (with its
// Idempotency-Key for posts); a request sent on whose answer never came closes the client's
// connection unanswered, as the owner's own death would have: "not done" would be a lie. Thread-safety: forward() from
// any thread; the answer comes on the client's thread.
#pragma once

#include <optional>
#include <string>
#include <utility>

#include "adapters/http/api_types.h"
#include "engine/tracer.h"
#include "net/upstream_client.h"

namespace pahlawan {

// A replica's owner id is "<name>@<host>:<port>#<incarnation>": the address is where it serves.
std::string replica_owner_id(const std::string& name, const std::string& advertise, const std::string& incarnation);
// The host and port of an owner id; nullopt if it names none.
std::optional<std::pair<std::string, std::string>> replica_address(const std::string& owner);

class RequestForwarder {
 public:
  RequestForwarder(Millis timeout, const Tracer& tracer);
  void forward(const std::string& owner, const ApiRequest& req, Respond respond);
  void stop() { client_.stop(); }
  int64_t forwarded() const { return forwarded_.load(); }

 private:
  UpstreamClient client_;
  const Tracer& tracer_;
  std::atomic<int64_t> forwarded_{0};
};

}  // namespace pahlawan
