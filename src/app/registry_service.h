// RegistryService: the admin registers providers and NGOs; each gets a token shown once. Validates
// every field, stores only the token's hash, and makes the token usable as soon as the reply is
// sent. Thread-safe; replies arrive on the store's thread.
#pragma once

#include <functional>

#include <optional>
#include <string>
#include <vector>

#include "app/authenticator.h"
#include "common/clock.h"
#include "common/ids.h"
#include "ports/ngo_directory.h"
#include "ports/secrets.h"
#include "ports/store.h"

namespace pahlawan {

struct RegisterProviderRequest {
  std::string name;
  double lat = 0, lon = 0;
};

struct RegisterNgoRequest {
  std::string name;
  double lat = 0, lon = 0;
  NgoKind kind = NgoKind::kNgo;
  std::vector<std::string> categories;
  std::optional<double> capacity_kg;
  std::optional<std::string> webhook_url;
};

struct Registered {
  std::string body;  // the rendered resource with its token (and webhook secret)
};

using RegisteredReply = UniqueFunction<void(Result<Registered>)>;

class RegistryService {
 public:
  // directory: where registered NGOs become candidates for matching (may be null: no matching).
  RegistryService(Store& store, Authenticator& auth, Secrets& secrets, IdGenerator& ids, const Clock& clock,
                  NgoDirectory* directory = nullptr)
      : store_(store), auth_(auth), secrets_(secrets), ids_(ids), clock_(clock), directory_(directory) {}

  // Called with each NGO registered once it is in the directory (its free slots can take waiting
  // items). Set once, before use.
  void on_ngo_added(std::function<void(const std::string& ngo_id)> listener) { ngo_added_ = std::move(listener); }
  // Called with each provider this process registers, once it is durable (the post path learns its
  // place without reading it back). Set once, before serving.
  void on_provider_added(std::function<void(const Provider&)> listener) { provider_added_ = std::move(listener); }
  void register_provider(const Principal& caller, RegisterProviderRequest req, RegisteredReply reply);
  void register_ngo(const Principal& caller, RegisterNgoRequest req, RegisteredReply reply);
  Result<Ngo> get_ngo(const Principal& caller, const std::string& id);
  // Admin only. Replaces the party's token: rotation answers {"id", "token"} with a new one shown
  // once; revocation answers {"id", "revoked": true} and leaves the party no working token. Either
  // way the old token stops working at once, and an admin.token_* event records it. 404 if the party
  // (kProvider or kNgo) does not exist.
  void replace_token(const Principal& caller, Role party_role, const std::string& id, bool revoke,
                     RegisteredReply reply);
  // --webhook-allow-private: accept webhook URLs on loopback/private/link-local addresses (tests, or a
  // receiver inside the operator's own network). REQUIRES: before serving.
  void allow_private_webhooks(bool allow) { allow_private_webhooks_ = allow; }

 private:
  Event audit(const char* type, const char* party_kind, const std::string& party_id);
  bool allow_private_webhooks_ = false;
  Store& store_;
  Authenticator& auth_;
  Secrets& secrets_;
  IdGenerator& ids_;
  const Clock& clock_;
  NgoDirectory* directory_;
  std::function<void(const std::string&)> ngo_added_;
  std::function<void(const Provider&)> provider_added_;
};

}  // namespace pahlawan
