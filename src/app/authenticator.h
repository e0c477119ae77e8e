// Authenticator: who a bearer token stands for. Holds the hashes of every issued token (loaded from
// the store at start, added at registration) and the admin token's hash; compares in constant time.
// Thread-safe (shared_mutex: lookups are many, registrations few).
#pragma once

#include <shared_mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "common/status.h"
#include "domain/party.h"
#include "ports/secrets.h"
#include "ports/store.h"

namespace pahlawan {

class Authenticator {
 public:
  Authenticator(Secrets& secrets, std::string admin_token_hash);
  void add(const Credential& c);
  // The party's credential now has this hash; its old token stops working at once.
  void replace(const Credential& c);
  // `authorization`: the raw Authorization header value (may be empty).
  Result<Principal> authenticate(std::string_view authorization) const;

 private:
  Secrets& secrets_;
  const std::string admin_hash_;
  mutable std::shared_mutex mu_;
  std::unordered_map<std::string, Credential> by_hash_;   // GUARDED_BY(mu_)
  std::unordered_map<std::string, std::string> hash_of_;  // GUARDED_BY(mu_): party id → its token hash
};

}  // namespace pahlawan
