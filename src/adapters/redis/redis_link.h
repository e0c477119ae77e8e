// RedisLink: pipelined commands to one Redis server over a small pool of hiredis connections, each
// with a timeout, so a slow or dead Redis costs a caller at most that timeout, never a hang.
// A connection that failed is closed and the next call dials again: a restarted server is picked up
// without anything noticing but the one failed call.
// Thread-safety: every method from any thread; a call holds one pooled connection for its pipeline.
#pragma once

#include <hiredis/hiredis.h>

#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/status.h"

namespace pahlawan {

struct RedisEndpoint {
  std::string host;
  int port = 6379;
  int db = 0;
};
// redis://host[:port][/db]
Result<RedisEndpoint> parse_redis_url(const std::string& url);

struct ReplyFree {
  void operator()(redisReply* r) const { freeReplyObject(r); }
};
using RedisReply = std::unique_ptr<redisReply, ReplyFree>;
using RedisCommand = std::vector<std::string>;

class RedisLink {
 public:
  RedisLink(RedisEndpoint endpoint, Millis timeout);
  ~RedisLink();
  RedisLink(const RedisLink&) = delete;
  RedisLink& operator=(const RedisLink&) = delete;

  // Sends every command, then reads every reply (one round trip). kUnavailable when the server
  // cannot be reached or did not answer in time; a command's own error is its reply (type ERROR).
  Result<std::vector<RedisReply>> run(const std::vector<RedisCommand>& commands);
  Result<RedisReply> run(const RedisCommand& command);

 private:
  using Connection = std::unique_ptr<redisContext, void (*)(redisContext*)>;
  Result<Connection> dial();

  const RedisEndpoint endpoint_;
  const Millis timeout_;
  std::mutex mu_;
  std::vector<Connection> idle_;  // GUARDED_BY(mu_)
};

}  // namespace pahlawan
