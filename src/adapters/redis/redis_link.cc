#include "adapters/redis/redis_link.h"

#include <sys/time.h>

#include <boost/url/parse.hpp>

namespace pahlawan {
namespace {

// Idle connections kept: enough for the I/O threads and the mirror's writer on this machine's
// cores; more concurrent callers dial their own and close them after.
constexpr size_t kMaxIdle = 8;

timeval to_timeval(Millis t) {
  timeval tv{};
  tv.tv_sec = static_cast<time_t>(t.count() / 1000);
  tv.tv_usec = static_cast<suseconds_t>((t.count() % 1000) * 1000);
  return tv;
}

}  // namespace

Result<RedisEndpoint> parse_redis_url(const std::string& url) {
  auto u = boost::urls::parse_uri(url);
  if (!u || u->scheme() != "redis" || u->host().empty()) {
    return Status(ErrorCode::kInvalidRequest, "expected redis://host[:port][/db], got " + url);
  }
  RedisEndpoint e;
  e.host = u->host();
  if (u->has_port()) e.port = u->port_number();
  if (e.port <= 0) return Status(ErrorCode::kInvalidRequest, "bad port in " + url);
  const std::string path = u->path();
  if (path.size() > 1) {
    try {
      size_t used = 0;
      e.db = std::stoi(path.substr(1), &used);
      if (used != path.size() - 1 || e.db < 0) throw std::invalid_argument(path);
    } catch (const std::exception&) {
      return Status(ErrorCode::kInvalidRequest, "bad database number in " + url);
    }
  }
  return e;
}

RedisLink::RedisLink(RedisEndpoint endpoint, Millis timeout) : endpoint_(std::move(endpoint)), timeout_(timeout) {}
RedisLink::~RedisLink() = default;

Result<RedisLink::Connection> RedisLink::dial() {
  Connection c(redisConnectWithTimeout(endpoint_.host.c_str(), endpoint_.port, to_timeval(timeout_)), redisFree);
  if (!c) return Status(ErrorCode::kUnavailable, "redis: out of memory");
  if (c->err) return Status(ErrorCode::kUnavailable, std::string("redis: ") + c->errstr);
  redisSetTimeout(c.get(), to_timeval(timeout_));
  redisEnableKeepAlive(c.get());
  if (endpoint_.db != 0) {
    auto* r = static_cast<redisReply*>(redisCommand(c.get(), "SELECT %d", endpoint_.db));
    RedisReply reply(r);
    if (!reply || reply->type == REDIS_REPLY_ERROR) return Status(ErrorCode::kUnavailable, "redis: SELECT failed");
  }
  return c;
}

Result<std::vector<RedisReply>> RedisLink::run(const std::vector<RedisCommand>& commands) {
  Connection c(nullptr, redisFree);
  {
    std::lock_guard lock(mu_);
    if (!idle_.empty()) {
      c = std::move(idle_.back());
      idle_.pop_back();
    }
  }
  if (!c) {
    auto dialed = dial();
    if (!dialed) return dialed.status();
    c = std::move(*dialed);
  }
  std::vector<const char*> argv;
  std::vector<size_t> lens;
  for (const auto& cmd : commands) {
    argv.clear();
    lens.clear();
    for (const auto& a : cmd) {
      argv.push_back(a.data());
      lens.push_back(a.size());
    }
    if (redisAppendCommandArgv(c.get(), static_cast<int>(argv.size()), argv.data(), lens.data()) != REDIS_OK) {
      return Status(ErrorCode::kUnavailable, std::string("redis: ") + c->errstr);
    }
  }
  std::vector<RedisReply> replies;
  replies.reserve(commands.size());
  for (size_t i = 0; i < commands.size(); ++i) {
    void* r = nullptr;
    // A failed read leaves the connection unusable (replies out of step): it is closed, not pooled.
    if (redisGetReply(c.get(), &r) != REDIS_OK || !r) {
      return Status(ErrorCode::kUnavailable, std::string("redis: ") + (c->err ? c->errstr : "no reply"));
    }
    replies.emplace_back(static_cast<redisReply*>(r));
  }
  std::lock_guard lock(mu_);
  if (idle_.size() < kMaxIdle) idle_.push_back(std::move(c));
  return replies;
}

Result<RedisReply> RedisLink::run(const RedisCommand& command) {
  auto r = run(std::vector<RedisCommand>{command});
  if (!r) return r.status();
  return std::move(r->front());
}

}  // namespace pahlawan
