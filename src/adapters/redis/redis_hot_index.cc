#include "adapters/redis/redis_hot_index.h"

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <unordered_set>

#include "domain/geo.h"

namespace pahlawan {
namespace {

// A writer's cold count older than this is from a replica that stopped publishing (it died): its
// partitions' next owner publishes them.
constexpr Millis kColdStale{5000};
// Readers reuse the cluster's cold total this long: one HGETALL a second, not one per browse.
constexpr Millis kColdCache{1000};

std::string str(const redisReply* r) {
  return r && (r->type == REDIS_REPLY_STRING || r->type == REDIS_REPLY_STATUS) ? std::string(r->str, r->len) : "";
}

Status check(const std::vector<RedisReply>& replies) {
  for (const auto& r : replies) {
    if (r->type == REDIS_REPLY_ERROR) return Status(ErrorCode::kUnavailable, "redis: " + str(r.get()));
  }
  return Status::ok();
}

std::string fmt_double(double v) {
  char buf[32];
  const int n = std::snprintf(buf, sizeof buf, "%.7f", v);
  return std::string(buf, static_cast<size_t>(n));
}

// Where an item sits: its fine and coarse cell tokens and its category — what its partition's hash
// keeps, so that it can be removed knowing only its id.
struct Place {
  std::string fine, coarse, category;
  std::string encode() const { return fine + ' ' + coarse + ' ' + category; }
  static Place decode(const std::string& s) {
    Place p;
    const size_t a = s.find(' '), b = s.find(' ', a == std::string::npos ? a : a + 1);
    if (a == std::string::npos || b == std::string::npos) return p;
    p.fine = s.substr(0, a);
    p.coarse = s.substr(a + 1, b - a - 1);
    p.category = s.substr(b + 1);
    return p;
  }
};

Place place_of(const Surplus& s) {
  return Place{cell_token(cell_id_at(s.lat, s.lon, RedisHotIndex::kFineLevel)),
               cell_token(cell_id_at(s.lat, s.lon, RedisHotIndex::kCoarseLevel)), s.category};
}

}  // namespace

RedisHotIndex::RedisHotIndex(RedisLink& link, std::string prefix) : link_(link), prefix_(std::move(prefix)) {}

Status RedisHotIndex::apply(const std::vector<HotChange>& changes) {
  std::vector<RedisCommand> cmds;
  cmds.reserve(changes.size() * 7);
  for (const auto& c : changes) {
    const Surplus& s = c.item->surplus;
    const Place p = place_of(s);
    const std::string part = std::to_string(partition_of_cell(s.cell));
    const std::string sets[4] = {key("g13:" + p.fine), key("g13:" + p.fine + ":" + p.category), key("g10:" + p.coarse),
                                 key("g10:" + p.coarse + ":" + p.category)};
    if (c.removed) {
      for (const auto& set : sets) cmds.push_back({"ZREM", set, s.id});
      cmds.push_back({"DEL", key("i:" + s.id)});
      cmds.push_back({"HDEL", key("p:" + part), s.id});
      continue;
    }
    const std::string lon = fmt_double(s.lon), lat = fmt_double(s.lat);
    for (const auto& set : sets) cmds.push_back({"GEOADD", set, lon, lat, s.id});
    cmds.push_back({"SET", key("i:" + s.id), std::to_string(to_unix_ms(s.expires_at)) + ' ' + c.item->json});
    cmds.push_back({"HSET", key("p:" + part), s.id, p.encode()});
    cmds.push_back({"SADD", key("partitions"), part});
  }
  if (cmds.empty()) return Status::ok();
  auto replies = link_.run(cmds);
  if (!replies) return replies.status();
  return check(*replies);
}

Result<std::vector<int64_t>> RedisHotIndex::partitions() {
  auto r = link_.run(RedisCommand{"SMEMBERS", key("partitions")});
  if (!r) return r.status();
  std::vector<int64_t> out;
  for (size_t i = 0; (*r)->type == REDIS_REPLY_ARRAY && i < (*r)->elements; ++i) {
    out.push_back(std::stoll(str((*r)->element[i])));
  }
  return out;
}

Result<std::vector<std::string>> RedisHotIndex::ids_of(int64_t partition) {
  auto r = link_.run(RedisCommand{"HKEYS", key("p:" + std::to_string(partition))});
  if (!r) return r.status();
  std::vector<std::string> out;
  for (size_t i = 0; (*r)->type == REDIS_REPLY_ARRAY && i < (*r)->elements; ++i) out.push_back(str((*r)->element[i]));
  return out;
}

Status RedisHotIndex::remove_ids(int64_t partition, const std::vector<std::string>& ids) {
  if (ids.empty()) return Status::ok();
  const std::string part = key("p:" + std::to_string(partition));
  RedisCommand hmget{"HMGET", part};
  hmget.insert(hmget.end(), ids.begin(), ids.end());
  auto places = link_.run(hmget);
  if (!places) return places.status();
  std::vector<RedisCommand> cmds;
  for (size_t i = 0; i < ids.size() && i < (*places)->elements; ++i) {
    const Place p = Place::decode(str((*places)->element[i]));
    if (!p.fine.empty()) {
      cmds.push_back({"ZREM", key("g13:" + p.fine), ids[i]});
      cmds.push_back({"ZREM", key("g13:" + p.fine + ":" + p.category), ids[i]});
      cmds.push_back({"ZREM", key("g10:" + p.coarse), ids[i]});
      cmds.push_back({"ZREM", key("g10:" + p.coarse + ":" + p.category), ids[i]});
    }
    cmds.push_back({"DEL", key("i:" + ids[i])});
    cmds.push_back({"HDEL", part, ids[i]});
  }
  auto replies = link_.run(cmds);
  if (!replies) return replies.status();
  return check(*replies);
}

Result<bool> RedisHotIndex::has_mark(const std::string& owner) {
  auto r = link_.run(RedisCommand{"EXISTS", key("mark:" + owner)});
  if (!r) return r.status();
  return (*r)->type == REDIS_REPLY_INTEGER && (*r)->integer == 1;
}

Status RedisHotIndex::set_ready(const std::string& owner) {
  auto r = link_.run({RedisCommand{"SET", key("mark:" + owner), "1"}, RedisCommand{"SET", key("ready"), "1"}});
  if (!r) return r.status();
  return check(*r);
}

Status RedisHotIndex::clear_ready() {
  auto r = link_.run(RedisCommand{"DEL", key("ready")});
  return r ? Status::ok() : r.status();
}

Status RedisHotIndex::publish_cold(const std::string& owner, int64_t count, TimePoint now) {
  auto r = link_.run(
      RedisCommand{"HSET", key("cold"), owner, std::to_string(count) + ' ' + std::to_string(to_unix_ms(now))});
  if (!r) return r.status();
  return (*r)->type == REDIS_REPLY_ERROR ? Status(ErrorCode::kUnavailable, "redis: " + str(r->get())) : Status::ok();
}

Result<int64_t> RedisHotIndex::cold_total(TimePoint now) {
  {
    std::lock_guard lock(cold_mu_);
    if (cold_read_ != TimePoint{} && now - cold_read_ < kColdCache && now >= cold_read_) return cold_cached_;
  }
  auto r = link_.run(RedisCommand{"HVALS", key("cold")});
  if (!r) return r.status();
  int64_t total = 0;
  for (size_t i = 0; (*r)->type == REDIS_REPLY_ARRAY && i < (*r)->elements; ++i) {
    const std::string v = str((*r)->element[i]);
    const size_t space = v.find(' ');
    if (space == std::string::npos) continue;
    int64_t count = 0, at = 0;
    std::from_chars(v.data(), v.data() + space, count);
    std::from_chars(v.data() + space + 1, v.data() + v.size(), at);
    if (now - from_unix_ms(at) <= kColdStale) total += count;
  }
  std::lock_guard lock(cold_mu_);
  cold_read_ = now;
  cold_cached_ = total;
  return total;
}

Status RedisHotIndex::withdraw(const std::string& owner) {
  auto r = link_.run({RedisCommand{"HDEL", key("cold"), owner}, RedisCommand{"DEL", key("mark:" + owner)}});
  return r ? Status::ok() : r.status();
}

std::vector<std::string> RedisHotIndex::set_keys(int level, double lat, double lon, double radius_m,
                                                 const std::optional<std::string>& category) const {
  std::vector<std::string> keys;
  const std::string kind = level == kFineLevel ? "g13:" : "g10:";
  for (uint64_t cell : covering_cells(lat, lon, radius_m, level)) {
    keys.push_back(key(kind + cell_token(cell) + (category ? ":" + *category : "")));
  }
  return keys;
}

Result<std::vector<RedisHotIndex::Candidate>> RedisHotIndex::search(const std::vector<std::string>& keys,
                                                                    const NearbyQuery& q, double radius_m, int count,
                                                                    bool check_ready) {
  std::vector<RedisCommand> cmds;
  if (check_ready) cmds.push_back({"EXISTS", key("ready")});
  const std::string lon = fmt_double(q.lon), lat = fmt_double(q.lat), radius = fmt_double(radius_m),
                    n = std::to_string(count);
  for (const auto& k : keys) {
    cmds.push_back({"GEOSEARCH", k, "FROMLONLAT", lon, lat, "BYRADIUS", radius, "m", "ASC", "COUNT", n, "WITHDIST"});
  }
  auto replies = link_.run(cmds);
  if (!replies) return replies.status();
  if (Status s = check(*replies); !s) return s;
  size_t i = 0;
  if (check_ready && ((*replies)[i++]->integer != 1)) {
    return Status(ErrorCode::kUnavailable, "redis: the hot copy is being rebuilt");
  }
  std::vector<Candidate> out;
  for (; i < replies->size(); ++i) {
    const redisReply* r = (*replies)[i].get();
    for (size_t j = 0; r->type == REDIS_REPLY_ARRAY && j < r->elements; ++j) {
      const redisReply* e = r->element[j];
      if (e->type != REDIS_REPLY_ARRAY || e->elements < 2) continue;
      out.push_back(Candidate{str(e->element[0]), std::stod(str(e->element[1]))});
    }
  }
  std::sort(out.begin(), out.end(), [](const Candidate& a, const Candidate& b) {
    return a.distance_m != b.distance_m ? a.distance_m < b.distance_m : a.id < b.id;
  });
  return out;
}

Status RedisHotIndex::fill(const std::vector<Candidate>& candidates, const NearbyQuery& q,
                           std::vector<NearbyHit>& out) {
  if (candidates.empty()) return Status::ok();
  RedisCommand mget{"MGET"};
  for (const auto& c : candidates) mget.push_back(key("i:" + c.id));
  auto r = link_.run(mget);
  if (!r) return r.status();
  for (size_t i = 0; i < candidates.size() && i < (*r)->elements; ++i) {
    if (static_cast<int>(out.size()) == q.limit) break;
    const std::string body = str((*r)->element[i]);
    const size_t space = body.find(' ');
    if (space == std::string::npos) continue;  // gone since the search: claimed or expired meanwhile
    int64_t expires_ms = 0;
    std::from_chars(body.data(), body.data() + space, expires_ms);
    auto item = std::make_shared<HotItem>();
    item->surplus.id = candidates[i].id;
    item->surplus.expires_at = from_unix_ms(expires_ms);
    if (item->surplus.expires_at <= q.now) continue;
    item->json = body.substr(space + 1);
    out.push_back(NearbyHit{std::move(item), candidates[i].distance_m});
  }
  return Status::ok();
}

Result<std::vector<NearbyHit>> RedisHotIndex::nearby(const NearbyQuery& q) {
  // Items past their expiry stay until their owner removes them (moments later): ask each set for a
  // few more, as the in-process index does, so that skipping them rarely shortens the page.
  const int count = q.limit + 16;
  // Widening circles: every item within a stage's radius is in the sets covering it, so when a stage
  // yields `limit` items none further can be nearer, and the query stops. A city answers at the first.
  struct Stage {
    int level;
    double radius_m;
  };
  constexpr Stage kStages[] = {{kFineLevel, kFineRadiusM}, {kFineLevel, kWideRadiusM}, {kCoarseLevel, 0}};
  std::vector<NearbyHit> out;
  std::unordered_set<std::string> seen;
  bool first = true;
  for (const Stage& stage : kStages) {
    const double radius = stage.radius_m > 0 ? std::min(stage.radius_m, q.radius_m) : q.radius_m;
    auto found = search(set_keys(stage.level, q.lat, q.lon, radius, q.category), q, radius, count, first);
    if (!found) return found.status();
    // What an earlier stage found is all there is within its radius, and nearer than the rest.
    std::vector<Candidate> fresh;
    for (auto& c : *found) {
      if (static_cast<int>(fresh.size()) == count) break;  // nearest first: the rest cannot make the page
      if (!seen.count(c.id)) fresh.push_back(std::move(c));
    }
    const size_t before = out.size();
    if (Status s = fill(fresh, q, out); !s) return s;
    for (size_t i = before; i < out.size(); ++i) seen.insert(out[i].item->surplus.id);
    if (static_cast<int>(out.size()) == q.limit || radius >= q.radius_m) break;
    first = false;
  }
  return out;
}

}  // namespace pahlawan
