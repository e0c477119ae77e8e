#include "adapters/http/api_handler.h"

#include <boost/json.hpp>

#include <cstdio>

#include "adapters/http/json_fields.h"
#include "adapters/http/request_parsing.h"
#include "app/json_render.h"
#include "common/time_format.h"
#include "common/trace_context.h"
#include "engine/tracer.h"

namespace pahlawan {
namespace {

namespace json = boost::json;

ApiResponse ok_json(std::string body, int status = 200) {
  ApiResponse r;
  r.status = status;
  r.body = std::move(body);
  return r;
}

// A registration answer carries a bearer token (and perhaps a webhook secret) shown only this once:
// no cache on the way may keep a copy.
ApiResponse registered(const Result<Registered>& r, int status = 201) {
  if (!r) return error_response(r.status());
  ApiResponse out = ok_json(r->body, status);
  out.headers.emplace_back("Cache-Control", "no-store");
  return out;
}

Status method_not_allowed() {
  return {ErrorCode::kMethodNotAllowed, "method not allowed on this path"};
}

// {"items": [surplus, ...]}
std::string items_body(const std::vector<Surplus>& items) {
  std::string body = R"({"items":[)";
  for (size_t i = 0; i < items.size(); ++i) body += (i ? "," : "") + render_surplus(items[i]);
  return body + "]}";
}

// Replies with the surplus, or the refusal, of an asynchronous surplus operation.
SurplusReply surplus_reply(Respond respond) {
  return [respond = std::move(respond)](Result<Surplus> r) mutable {
    respond(r ? ok_json(render_surplus(*r)) : error_response(r.status()));
  };
}

// The route a path matches, with its id segment as "{id}"; "unmatched" for any other.
const char* route_template(const std::vector<std::string>& seg) {
  std::string path;
  for (size_t i = 0; i < seg.size(); ++i) path += "/" + (i == 2 ? std::string("{id}") : seg[i]);
  for (const char* r : api_routes()) {
    if (path == r) return r;
  }
  return "unmatched";
}

}  // namespace

const std::vector<const char*>& api_routes() {
  static const std::vector<const char*> routes = {"/healthz",
                                                  "/readyz",
                                                  "/metrics",
                                                  "/v1/providers",
                                                  "/v1/ngos",
                                                  "/v1/ngos/{id}",
                                                  "/v1/surplus",
                                                  "/v1/surplus/{id}",
                                                  "/v1/surplus/{id}/claim",
                                                  "/v1/surplus/{id}/pickup",
                                                  "/v1/surplus/{id}/decline",
                                                  "/v1/offers",
                                                  "/v1/providers/{id}/token",
                                                  "/v1/ngos/{id}/token",
                                                  "/v1/events",
                                                  "/v1/dlq",
                                                  "/v1/waiting",
                                                  "/v1/dlq/{id}/retry",
                                                  "/v1/dlq/{id}/assign",
                                                  "unmatched"};
  return routes;
}

void ApiHandler::handle(ApiRequest req, Respond respond) {
  auto target = parse_target(req.target);
  if (!target) {
    ApiResponse r = error_response(target.status());
    r.route = "unmatched";
    return respond(std::move(r));
  }
  const std::vector<std::string>& seg = target->segments;
  const char* const route_name = route_template(seg);
  // The request's span: a child of the caller's traceparent, or a trace's root. Its context goes
  // back in the answer's traceparent, and on into everything the request causes. Probes and scrapes
  // (not under /v1) are not traced: they would be most of the spans and say nothing.
  const bool traced = std::string_view(route_name).starts_with("/v1");
  Span span = traced
                  ? d_.tracer.start(req.method + " " + route_name, SpanKind::kServer, req.traceparent, req.tracestate)
                  : Span();
  span.set("http.request.method", req.method);
  span.set("http.route", route_name);
  const std::string tp = span.traceparent();
  respond = [span = std::move(span), route_name, tracestate = valid_tracestate(req.tracestate) ? req.tracestate : "",
             respond = std::move(respond)](ApiResponse r) mutable {
    r.route = route_name;
    span.set("http.response.status_code", static_cast<int64_t>(r.status));
    if (r.status >= 500) span.fail("HTTP " + std::to_string(r.status));
    if (!span.traceparent().empty()) r.headers.emplace_back("traceparent", span.traceparent());
    if (!tracestate.empty()) r.headers.emplace_back("tracestate", tracestate);
    span.end();
    respond(std::move(r));
  };
  const QueryParams& query = target->query;
  const std::string& m = req.method;

  // Unauthenticated operational endpoints.
  if (seg.size() == 1 && (seg[0] == "healthz" || seg[0] == "readyz" || seg[0] == "metrics")) {
    if (m != "GET" && m != "HEAD") return respond(error_response(method_not_allowed()));
    if (seg[0] == "metrics") {
      ApiResponse r;
      r.content_type = "text/plain; version=0.0.4; charset=utf-8";
      r.body = d_.metrics.render();
      return respond(std::move(r));
    }
    if (seg[0] == "readyz" && !d_.ready.load()) {
      return respond(error_response(Status(ErrorCode::kUnavailable, "not ready (starting or draining)")));
    }
    return respond(ok_json(R"({"status":"ok"})"));
  }

  enum class Route {
    kNone,
    kProviders,
    kNgos,
    kNgo,
    kSurplusList,
    kSurplus,
    kClaim,
    kPickup,
    kDecline,
    kOffers,
    kDlq,
    kWaiting,
    kDlqRetry,
    kDlqAssign,
    kEvents,
    kProviderToken,
    kNgoToken
  };
  Route route = Route::kNone;
  std::vector<const char*> allowed;
  if (seg.size() >= 2 && seg[0] == "v1") {
    if (seg.size() == 2 && seg[1] == "providers") route = Route::kProviders, allowed = {"POST"};
    if (seg.size() == 2 && seg[1] == "ngos") route = Route::kNgos, allowed = {"POST"};
    if (seg.size() == 3 && seg[1] == "ngos") route = Route::kNgo, allowed = {"GET"};
    if (seg.size() == 2 && seg[1] == "surplus") route = Route::kSurplusList, allowed = {"GET", "POST"};
    if (seg.size() == 3 && seg[1] == "surplus") route = Route::kSurplus, allowed = {"GET", "DELETE"};
    if (seg.size() == 4 && seg[1] == "surplus" && seg[3] == "claim") route = Route::kClaim, allowed = {"POST"};
    if (seg.size() == 4 && seg[1] == "surplus" && seg[3] == "pickup") route = Route::kPickup, allowed = {"POST"};
    if (seg.size() == 4 && seg[1] == "surplus" && seg[3] == "decline") route = Route::kDecline, allowed = {"POST"};
    if (seg.size() == 2 && seg[1] == "offers") route = Route::kOffers, allowed = {"GET"};
    if (seg.size() == 4 && seg[1] == "providers" && seg[3] == "token") {
      route = Route::kProviderToken, allowed = {"POST", "DELETE"};
    }
    if (seg.size() == 4 && seg[1] == "ngos" && seg[3] == "token")
      route = Route::kNgoToken, allowed = {"POST", "DELETE"};
    if (seg.size() == 2 && seg[1] == "events") route = Route::kEvents, allowed = {"GET"};
    if (seg.size() == 2 && seg[1] == "dlq") route = Route::kDlq, allowed = {"GET"};
    if (seg.size() == 2 && seg[1] == "waiting") route = Route::kWaiting, allowed = {"GET"};
    if (seg.size() == 4 && seg[1] == "dlq" && seg[3] == "retry") route = Route::kDlqRetry, allowed = {"POST"};
    if (seg.size() == 4 && seg[1] == "dlq" && seg[3] == "assign") route = Route::kDlqAssign, allowed = {"POST"};
  }
  if (route == Route::kNone) return respond(error_response(Status(ErrorCode::kNotFound, "no such route")));
  bool method_ok = false;
  std::string allow;
  for (const char* a : allowed) {
    method_ok |= m == a;
    allow += (allow.empty() ? "" : ", ") + std::string(a);
  }
  if (!method_ok) {
    ApiResponse r = error_response(method_not_allowed());
    r.headers.emplace_back("Allow", allow);
    return respond(std::move(r));
  }
  if (!d_.ready.load()) {
    return respond(error_response(Status(ErrorCode::kUnavailable, "server is draining")));
  }

  if (req.duplicate_authorization) {
    return respond(error_response(invalid("more than one Authorization header")));
  }
  auto principal = d_.auth.authenticate(req.authorization);
  if (!principal) return respond(error_response(principal.status()));
  const Principal& p = *principal;
  if (Status admitted = d_.limiter.admit(p); !admitted) {
    ApiResponse r = error_response(Status(ErrorCode::kRateLimited, "too many requests for this token"));
    for (auto& [k, v] : r.headers) {
      if (k == "Retry-After") v = admitted.message();  // the limiter's answer: seconds to wait
    }
    return respond(std::move(r));
  }

  // Several replicas: a command for a place another replica serves comes back kElsewhere (before
  // anything is written) and goes on to that replica as it came.
  const bool command = (route == Route::kSurplusList && m == "POST") || (route == Route::kSurplus && m == "DELETE") ||
                       route == Route::kClaim || route == Route::kPickup || route == Route::kDecline ||
                       route == Route::kDlqRetry || route == Route::kDlqAssign;
  if (forwarder_ && command && !req.forwarded) {
    req.traceparent = tp;  // the forward continues this request's span
    respond = [this, copy = std::make_shared<const ApiRequest>(req),
               respond = std::move(respond)](ApiResponse r) mutable {
      if (r.forward_to.empty()) return respond(std::move(r));
      forwarder_->forward(r.forward_to, *copy, std::move(respond));
    };
  }

  switch (route) {
    case Route::kProviders: return register_provider(p, req, std::move(respond));
    case Route::kNgos: return register_ngo(p, req, std::move(respond));
    // Reads of the store run on the read pool, never on this I/O thread (a network round trip on
    // PostgreSQL, and a hostile client can ask for ids that exist nowhere).
    case Route::kNgo:
      return d_.reads.post([this, p, id = std::string(seg[2]), respond = std::move(respond)]() mutable {
        auto ngo = d_.registry.get_ngo(p, id);
        respond(ngo ? ok_json(render_ngo(*ngo, std::nullopt, std::nullopt)) : error_response(ngo.status()));
      });
    case Route::kSurplusList:
      if (m == "POST") return post_surplus(p, req, tp, std::move(respond));
      return browse(p, query, tp, std::move(respond));
    case Route::kSurplus:
      if (m == "DELETE") return d_.surplus.cancel(p, seg[2], tp, surplus_reply(std::move(respond)));
      return d_.reads.post([this, p, id = std::string(seg[2]), respond = std::move(respond)]() mutable {
        auto s = d_.surplus.get(p, id);
        respond(s ? ok_json(render_surplus(*s)) : error_response(s.status()));
      });
    case Route::kClaim: {
      auto if_match = parse_if_match(req.if_match);
      if (!if_match) return respond(error_response(if_match.status()));
      return d_.surplus.claim(p, seg[2], *if_match, tp, surplus_reply(std::move(respond)));
    }
    case Route::kPickup: return d_.surplus.pickup(p, seg[2], tp, surplus_reply(std::move(respond)));
    case Route::kDecline: return d_.surplus.decline(p, seg[2], tp, surplus_reply(std::move(respond)));
    // Listings read the store: they run on the read pool, not on this I/O thread.
    case Route::kOffers:
      return d_.reads.post([this, p, respond = std::move(respond)]() mutable {
        auto items = d_.surplus.offers(p);
        if (!items) return respond(error_response(items.status()));
        respond(ok_json(items_body(*items)));
      });
    case Route::kWaiting: {
      auto q = parse_dlq_query(query);
      if (!q) return respond(error_response(q.status()));
      if (!q->after.empty()) return respond(error_response(invalid("the waiting line is not paged: no \"after\"")));
      auto items = d_.surplus.waiting(p, q->region, q->limit);  // from memory: the shard actors' line
      if (!items) return respond(error_response(items.status()));
      return respond(ok_json(items_body(*items)));
    }
    case Route::kDlq: {
      auto q = parse_dlq_query(query);
      if (!q) return respond(error_response(q.status()));
      return d_.reads.post([this, p, q = std::move(*q), respond = std::move(respond)]() mutable {
        auto page = d_.surplus.dead_letters(p, q.region, q.limit, q.after);
        if (!page) return respond(error_response(page.status()));
        std::string body = R"({"items":[)";
        for (size_t i = 0; i < page->items.size(); ++i) body += (i ? "," : "") + render_dlq_entry(page->items[i]);
        body += page->next ? R"(],"next":)" + boost::json::serialize(boost::json::string(*page->next)) + "}"
                           : R"(],"next":null})";
        respond(ok_json(std::move(body)));
      });
    }
    case Route::kEvents: return open_events(p, req, std::move(respond));
    case Route::kProviderToken:
    case Route::kNgoToken: {
      // POST: a new token (rotation), shown once, hence like a registration answer never cached;
      // DELETE: no working token any more (revocation).
      // It reads the party first: on the read pool.
      const bool revoke = m == "DELETE";
      const Role role = route == Route::kProviderToken ? Role::kProvider : Role::kNgo;
      return d_.reads.post([this, p, role, id = std::string(seg[2]), revoke, respond = std::move(respond)]() mutable {
        d_.registry.replace_token(p, role, id, revoke, [respond = std::move(respond)](Result<Registered> r) mutable {
          respond(registered(r, 200));
        });
      });
    }
    case Route::kDlqRetry: return dlq_retry(p, req, seg[2], tp, std::move(respond));
    case Route::kDlqAssign: return dlq_assign(p, req, seg[2], tp, std::move(respond));
    case Route::kNone: break;
  }
  respond(error_response(Status(ErrorCode::kNotFound, "no such route")));
}

void ApiHandler::post_surplus(const Principal& p, ApiRequest& req, const std::string& tp, Respond respond) {
  if (p.role != Role::kProvider) {
    return respond(error_response(Status(ErrorCode::kForbidden, "only providers post surplus")));
  }
  auto body = fields::parse_object(req.body);
  if (!body) return respond(error_response(body.status()));
  PostSurplusRequest r;
  auto title = fields::req_string(*body, "title");
  auto category = fields::req_string(*body, "category");
  auto qty = fields::req_number(*body, "quantity_kg");
  auto expires = fields::opt_string(*body, "expires_at");
  auto ttl = fields::opt_integer(*body, "ttl_seconds");
  auto lat = fields::opt_number(*body, "lat");
  auto lon = fields::opt_number(*body, "lon");
  for (const Status* s : {&title.status(), &category.status(), &qty.status(), &expires.status(), &ttl.status(),
                          &lat.status(), &lon.status()}) {
    if (!s->is_ok()) return respond(error_response(*s));
  }
  r.title = std::move(*title);
  r.category = std::move(*category);
  r.quantity_kg = *qty;
  if (*expires) {
    r.expires_at = parse_rfc3339(**expires);
    if (!r.expires_at) return respond(error_response(invalid("field 'expires_at' must be an RFC 3339 time")));
  }
  r.ttl_seconds = *ttl;
  r.lat = *lat;
  r.lon = *lon;
  if (!req.idempotency_key.empty()) {
    // Only a keyed post needs the fingerprint that tells a replay from a reused key.
    r.idempotency_key = req.idempotency_key;
    r.body_fingerprint = d_.secrets.hash(req.body);
  }
  d_.surplus.post(p, std::move(r), tp, [respond = std::move(respond)](Result<PostOutcome> out) mutable {
    if (!out) return respond(error_response(out.status()));
    respond(ok_json(render_surplus(out->surplus), out->replayed ? 200 : 201));
  });
}

void ApiHandler::browse(const Principal& p, const QueryParams& query, const std::string& tp, Respond respond) {
  auto b = parse_browse_query(query);
  if (!b) return respond(error_response(b.status()));
  b->traceparent = tp;
  // From memory on this thread, unless some available items are older than the hot window: then
  // the store is asked too, on the read pool.
  if (!d_.surplus.browse_reads_store()) return browse_now(p, *b, std::move(respond));
  d_.reads.post(
      [this, p, b = std::move(*b), respond = std::move(respond)]() mutable { browse_now(p, b, std::move(respond)); });
}

void ApiHandler::browse_now(const Principal& p, const BrowseRequest& b, Respond respond) {
  auto hits = d_.surplus.browse(p, b);
  if (!hits) return respond(error_response(hits.status()));
  // Items carry their rendered JSON; each gets "distance_m" spliced in before its closing brace.
  std::string body = R"({"items":[)";
  body.reserve(256 + hits->size() * 520);
  char distance[48];
  bool first = true;
  for (const auto& h : *hits) {
    if (!first) body += ',';
    first = false;
    const std::string& json = h.item->json;
    body.append(json, 0, json.size() - 1);
    const int n = std::snprintf(distance, sizeof distance, R"(,"distance_m":%.1f})", h.distance_m);
    body.append(distance, static_cast<size_t>(n));
  }
  body += "]}";
  respond(ok_json(std::move(body)));
}

void ApiHandler::open_events(const Principal& p, const ApiRequest& req, Respond respond) {
  if (p.role != Role::kNgo) return respond(error_response(Status(ErrorCode::kForbidden, "event streams are for NGOs")));
  // Registered before the replay is read, so nothing committed in between is missed; the stream
  // orders replayed and live frames by outbox position.
  auto stream = d_.sse.open(p.id);
  stream->begin_replay();
  // The replay is a bounded index read, but still a store read: the read pool runs it.
  d_.reads.post(
      [this, p, stream = std::move(stream), last = req.last_event_id, respond = std::move(respond)]() mutable {
        auto replay = d_.surplus.offer_events_since(p, last);
        if (!replay) {
          d_.sse.close(stream);
          return respond(error_response(replay.status()));
        }
        for (const auto& e : *replay) stream->push(e.seq, sse_offer_frame(e), false);
        stream->end_replay();
        ApiResponse r;
        r.content_type = "text/event-stream";
        r.headers.emplace_back("Cache-Control", "no-cache");
        r.sse = std::move(stream);
        respond(std::move(r));
      });
}

void ApiHandler::dlq_retry(const Principal& p, ApiRequest& req, const std::string& id, const std::string& tp,
                           Respond respond) {
  SurplusService::Relaxation relax;
  if (!req.body.empty()) {  // every field is optional, and so is the body
    auto body = fields::parse_object(req.body);
    if (!body) return respond(error_response(body.status()));
    auto radius = fields::opt_number(*body, "radius_m");
    auto banks = fields::opt_bool(*body, "include_food_banks");
    auto cats = fields::opt_bool(*body, "ignore_categories");
    for (const Status* s : {&radius.status(), &banks.status(), &cats.status()}) {
      if (!s->is_ok()) return respond(error_response(*s));
    }
    relax.radius_m = *radius;
    relax.include_food_banks = banks->value_or(false);
    relax.ignore_categories = cats->value_or(false);
  }
  d_.surplus.retry(p, id, relax, tp, surplus_reply(std::move(respond)));
}

void ApiHandler::dlq_assign(const Principal& p, ApiRequest& req, const std::string& id, const std::string& tp,
                            Respond respond) {
  auto body = fields::parse_object(req.body);
  if (!body) return respond(error_response(body.status()));
  auto ngo = fields::req_string(*body, "ngo_id");
  if (!ngo) return respond(error_response(ngo.status()));
  d_.surplus.assign(p, id, *ngo, tp, surplus_reply(std::move(respond)));
}

void ApiHandler::register_provider(const Principal& p, ApiRequest& req, Respond respond) {
  auto body = fields::parse_object(req.body);
  if (!body) return respond(error_response(body.status()));
  auto name = fields::req_string(*body, "name");
  auto lat = fields::req_number(*body, "lat");
  auto lon = fields::req_number(*body, "lon");
  for (const Status* s : {&name.status(), &lat.status(), &lon.status()}) {
    if (!s->is_ok()) return respond(error_response(*s));
  }
  d_.registry.register_provider(
      p, RegisterProviderRequest{*name, *lat, *lon},
      [respond = std::move(respond)](Result<Registered> r) mutable { respond(registered(r)); });
}

void ApiHandler::register_ngo(const Principal& p, ApiRequest& req, Respond respond) {
  auto body = fields::parse_object(req.body);
  if (!body) return respond(error_response(body.status()));
  auto name = fields::req_string(*body, "name");
  auto lat = fields::req_number(*body, "lat");
  auto lon = fields::req_number(*body, "lon");
  auto kind = fields::opt_string(*body, "kind");
  auto cats = fields::opt_string_array(*body, "categories");
  auto cap = fields::opt_number(*body, "capacity_kg");
  auto hook = fields::opt_string(*body, "webhook_url");
  for (const Status* s :
       {&name.status(), &lat.status(), &lon.status(), &kind.status(), &cats.status(), &cap.status(), &hook.status()}) {
    if (!s->is_ok()) return respond(error_response(*s));
  }
  RegisterNgoRequest r;
  r.name = *name;
  r.lat = *lat;
  r.lon = *lon;
  if (*kind && **kind != "ngo" && **kind != "food_bank") {
    return respond(error_response(invalid("field 'kind' must be \"ngo\" or \"food_bank\"")));
  }
  r.kind = (*kind && **kind == "food_bank") ? NgoKind::kFoodBank : NgoKind::kNgo;
  if (*cats) r.categories = **cats;
  r.capacity_kg = *cap;
  r.webhook_url = *hook;
  d_.registry.register_ngo(p, std::move(r),
                           [respond = std::move(respond)](Result<Registered> r) mutable { respond(registered(r)); });
}

}  // namespace pahlawan
