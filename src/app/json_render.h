// How the API renders its resources as JSON (the same rendering goes into outbox event payloads, so
// an event's `data` is exactly what GET /v1/surplus/{id} returned at that moment). Pure functions.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "domain/event.h"
#include "domain/party.h"
#include "domain/surplus.h"

namespace pahlawan {

std::string render_surplus(const Surplus& s);
std::string render_provider(const Provider& p, const std::optional<std::string>& token);
std::string render_ngo(const Ngo& n, const std::optional<std::string>& token,
                       const std::optional<std::string>& webhook_secret);
std::string render_event(const Event& e);
// An event back from render_event's JSON (as a bus carries it): id, type, surplus_id, occurred_at,
// traceparent and data; nullopt if the text is not one. seq, recipient and region travel beside it.
std::optional<Event> parse_rendered_event(std::string_view text);
// The payload of an admin.* audit event: what was done to which party.
std::string render_audit(const char* party_kind, const std::string& party_id);
// The party of an audit payload: {kind ("provider" or "ngo"), id}; nullopt if it is not one.
std::optional<std::pair<std::string, std::string>> parse_audit(const std::string& data_json);
// The answers of token rotation ({"id", "token"}) and revocation ({"id", "revoked": true}).
std::string render_token(const std::string& party_id, const std::string& token);
std::string render_token_revoked(const std::string& party_id);
// A Geo-DLQ entry: {"id", "surplus", "region", "reason", "attempts", "created_at"}.
std::string render_dlq_entry(const Surplus& s);
// The S2 cell token at level 6 that groups the Geo-DLQ by region.
std::string dlq_region(const Surplus& s);

}  // namespace pahlawan
