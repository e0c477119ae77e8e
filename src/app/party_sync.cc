#include "app/party_sync.h"
#include "common/log.h"

#include <cstdio>
#include <string_view>

#include "app/json_render.h"
#include "domain/event.h"

namespace pahlawan {

void PartySync::on_event(const Event& event) {
  const std::string_view type(event.type);
  if (type != event_type::kProviderRegistered && type != event_type::kNgoRegistered &&
      type != event_type::kTokenRotated && type != event_type::kTokenRevoked) {
    return;
  }
  const auto party = parse_audit(event.data_json);
  if (!party || (party->first != "provider" && party->first != "ngo")) return;
  const Role role = party->first == "provider" ? Role::kProvider : Role::kNgo;
  const std::string& id = party->second;
  auto cred = store_.find_credential(role, id);
  if (!cred) {
    // Not fatal: the party keeps the credential this process already knew; the next event or a
    // restart reads it again.
    log_line(LogLevel::kWarn, "party sync: cannot read a party's credential",
             {{"kind", party->first}, {"id", id}, {"error", cred.status().message()}});
    return;
  }
  if (*cred) auth_.replace(**cred);
  if (role != Role::kNgo || !directory_ || directory_->find(id)) return;
  auto ngo = store_.find_ngo(id);
  if (!ngo || !*ngo) return;
  directory_->add(std::move(**ngo));
  if (ngo_added_) ngo_added_(id);
}

}  // namespace pahlawan
