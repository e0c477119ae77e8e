#include "app/registry_service.h"

#include <algorithm>

#include "app/json_render.h"
#include "domain/event.h"
#include "domain/validation.h"

namespace pahlawan {
namespace {

Status admin_only(const Principal& caller) {
  if (caller.role != Role::kAdmin) return {ErrorCode::kForbidden, "only the admin may register parties"};
  return Status::ok();
}

}  // namespace

Event RegistryService::audit(const char* type, const char* party_kind, const std::string& party_id) {
  return Event{ids_.next(), type, "", clock_.now(), "", render_audit(party_kind, party_id)};
}

void RegistryService::replace_token(const Principal& caller, Role party_role, const std::string& id, bool revoke,
                                    RegisteredReply reply) {
  if (caller.role != Role::kAdmin) return reply(Status(ErrorCode::kForbidden, "only the admin may replace tokens"));
  const bool provider = party_role == Role::kProvider;
  if (provider) {
    auto found = store_.find_provider(id);
    if (!found) return reply(found.status());
    if (!*found) return reply(Status(ErrorCode::kNotFound, "no such provider"));
  } else {
    auto found = store_.find_ngo(id);
    if (!found) return reply(found.status());
    if (!*found) return reply(Status(ErrorCode::kNotFound, "no such NGO"));
  }
  // Revoked: the hash of a fresh token nobody is shown, so no token matches the party any more.
  const std::string token = secrets_.new_token(provider ? "pp_prov_" : "pp_ngo_");
  Credential cred{Principal{party_role, id}, secrets_.hash(token)};
  UnitOfWork unit;
  unit.token = UnitOfWork::TokenUpdate{cred.principal, cred.token_hash};
  unit.events.push_back(
      audit(revoke ? event_type::kTokenRevoked : event_type::kTokenRotated, provider ? "provider" : "ngo", id));
  store_.commit(std::move(unit), [this, cred, token, revoke, id, reply = std::move(reply)](Status s) mutable {
    if (!s) return reply(s);
    auth_.replace(cred);
    reply(Registered{revoke ? render_token_revoked(id) : render_token(id, token)});
  });
}

void RegistryService::register_provider(const Principal& caller, RegisterProviderRequest req, RegisteredReply reply) {
  for (Status s : {admin_only(caller), validate_name("name", req.name), validate_coordinates(req.lat, req.lon)}) {
    if (!s) return reply(s);
  }
  Provider p{ids_.next(), req.name, req.lat, req.lon, clock_.now()};
  const std::string token = secrets_.new_token("pp_prov_");
  Credential cred{Principal{Role::kProvider, p.id}, secrets_.hash(token)};
  UnitOfWork unit;
  unit.provider = std::make_pair(p, cred.token_hash);
  unit.events.push_back(audit(event_type::kProviderRegistered, "provider", p.id));
  store_.commit(std::move(unit), [this, p, token, cred, reply = std::move(reply)](Status s) mutable {
    if (!s) return reply(s);
    auth_.add(cred);
    if (provider_added_) provider_added_(p);
    reply(Registered{render_provider(p, token)});
  });
}

void RegistryService::register_ngo(const Principal& caller, RegisterNgoRequest req, RegisteredReply reply) {
  for (Status s : {admin_only(caller), validate_name("name", req.name), validate_coordinates(req.lat, req.lon)}) {
    if (!s) return reply(s);
  }
  for (const auto& c : req.categories) {
    if (Status s = validate_category(c); !s) return reply(s);
  }
  std::sort(req.categories.begin(), req.categories.end());
  req.categories.erase(std::unique(req.categories.begin(), req.categories.end()), req.categories.end());
  if (req.capacity_kg) {
    if (Status s = validate_capacity(*req.capacity_kg); !s) return reply(s);
  }
  if (req.webhook_url) {
    if (Status s = validate_webhook_url(*req.webhook_url); !s) return reply(s);
    if (!allow_private_webhooks_ && is_private_host(url_host(*req.webhook_url))) {
      return reply(invalid("webhook_url must not point at a loopback, private, link-local or metadata address"));
    }
  }
  Ngo n{ids_.next(),     req.name,        req.lat,     req.lon, req.kind, std::move(req.categories),
        req.capacity_kg, req.webhook_url, clock_.now()};
  const std::string token = secrets_.new_token("pp_ngo_");
  std::optional<std::string> secret;
  if (n.webhook_url) secret = secrets_.new_token("whsec_");
  n.webhook_secret = secret;
  Credential cred{Principal{Role::kNgo, n.id}, secrets_.hash(token)};
  UnitOfWork unit;
  unit.ngo = UnitOfWork::NgoInsert{n, cred.token_hash, secret};
  unit.events.push_back(audit(event_type::kNgoRegistered, "ngo", n.id));
  store_.commit(std::move(unit), [this, n, token, secret, cred, reply = std::move(reply)](Status s) mutable {
    if (!s) return reply(s);
    auth_.add(cred);
    // The directory may have it already: PartySync applies the registration's event too, maybe first.
    const bool fresh = directory_ && !directory_->find(n.id);
    if (directory_) directory_->add(n);
    if (fresh && ngo_added_) ngo_added_(n.id);
    reply(Registered{render_ngo(n, token, secret)});
  });
}

Result<Ngo> RegistryService::get_ngo(const Principal& caller, const std::string& id) {
  if (caller.role != Role::kAdmin && !(caller.role == Role::kNgo && caller.id == id)) {
    return Status(ErrorCode::kForbidden, "only the admin or the NGO itself may read it");
  }
  auto found = store_.find_ngo(id);
  if (!found) return found.status();
  if (!*found) return Status(ErrorCode::kNotFound, "no such NGO");
  return std::move(**found);
}

}  // namespace pahlawan
