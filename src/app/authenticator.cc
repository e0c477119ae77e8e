#include "app/authenticator.h"

#include <algorithm>
#include <cctype>
#include <mutex>

namespace pahlawan {

Authenticator::Authenticator(Secrets& secrets, std::string admin_token_hash)
    : secrets_(secrets), admin_hash_(std::move(admin_token_hash)) {}

void Authenticator::add(const Credential& c) {
  std::unique_lock lock(mu_);
  by_hash_.insert_or_assign(c.token_hash, c);
  hash_of_.insert_or_assign(c.principal.id, c.token_hash);
}

void Authenticator::replace(const Credential& c) {
  std::unique_lock lock(mu_);
  if (auto old = hash_of_.find(c.principal.id); old != hash_of_.end()) by_hash_.erase(old->second);
  by_hash_.insert_or_assign(c.token_hash, c);
  hash_of_.insert_or_assign(c.principal.id, c.token_hash);
}

Result<Principal> Authenticator::authenticate(std::string_view authorization) const {
  // RFC 7235: the scheme name is case-insensitive ("bearer", "BEARER"); one or more spaces follow it.
  constexpr std::string_view kBearer = "bearer";
  const bool bearer = authorization.size() > kBearer.size() + 1 &&
                      std::equal(kBearer.begin(), kBearer.end(), authorization.begin(),
                                 [](char a, char b) { return a == std::tolower(static_cast<unsigned char>(b)); }) &&
                      authorization[kBearer.size()] == ' ';
  if (!bearer) return Status(ErrorCode::kUnauthorized, "missing bearer token");
  std::string_view token = authorization.substr(kBearer.size());
  while (!token.empty() && token.front() == ' ') token.remove_prefix(1);
  if (token.empty()) return Status(ErrorCode::kUnauthorized, "missing bearer token");
  const std::string hash = secrets_.hash(std::string(token));
  if (secrets_.equal(hash, admin_hash_)) return Principal{Role::kAdmin, ""};
  std::shared_lock lock(mu_);
  auto it = by_hash_.find(hash);
  // The map lookup is on the hash, not the token, so its timing reveals nothing about valid tokens;
  // the final comparison is constant-time all the same.
  if (it == by_hash_.end() || !secrets_.equal(it->second.token_hash, hash)) {
    return Status(ErrorCode::kUnauthorized, "unknown token");
  }
  return it->second.principal;
}

}  // namespace pahlawan
