#include "redis_server_process.h"

#include <hiredis/hiredis.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <memory>
#include <stdexcept>
#include <thread>

#include <gtest/gtest.h>

#include "polling.h"

namespace pahlawan::testing {

RedisServerProcess::RedisServerProcess() {
  char tmpl[] = "/tmp/pahlawan-redis-XXXXXX";
  dir_ = mkdtemp(tmpl);
  port_ = free_loopback_port();
}

RedisServerProcess::~RedisServerProcess() {
  stop();
  std::filesystem::remove_all(dir_);
}

void RedisServerProcess::start() {
  const std::string port = std::to_string(port_);
  pid_ = fork();
  if (pid_ == 0) {
    const std::string log = dir_ + "/server.log";
    execlp("redis-server", "redis-server", "--bind", "127.0.0.1", "--port", port.c_str(), "--dir", dir_.c_str(),
           "--save", "", "--appendonly", "no", "--logfile", log.c_str(), static_cast<char*>(nullptr));
    _exit(127);
  }
  for (auto until = std::chrono::steady_clock::now() + std::chrono::seconds(20);;) {
    try {
      if (command({"PING"}) == "PONG") return;
    } catch (const std::exception&) {
    }
    int status = 0;
    ASSERT_EQ(waitpid(pid_, &status, WNOHANG), 0) << "redis-server exited (is it installed?)";
    ASSERT_LT(std::chrono::steady_clock::now(), until) << "redis-server did not answer";
    std::this_thread::sleep_for(std::chrono::milliseconds(20));  // pacing the retries, not synchronising
  }
}

void RedisServerProcess::stop() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGKILL);
  int status = 0;
  waitpid(pid_, &status, 0);
  pid_ = -1;
}

namespace {
std::string text(const redisReply* r) {
  switch (r->type) {
    case REDIS_REPLY_STRING:
    case REDIS_REPLY_STATUS:
    case REDIS_REPLY_ERROR: return std::string(r->str, r->len);
    case REDIS_REPLY_INTEGER: return std::to_string(r->integer);
    case REDIS_REPLY_ARRAY: {
      std::string out;
      for (size_t i = 0; i < r->elements; ++i) out += (i ? "\n" : "") + text(r->element[i]);
      return out;
    }
    default: return "";
  }
}
}  // namespace

std::string RedisServerProcess::command(const std::vector<std::string>& args) const {
  timeval tv{2, 0};
  std::unique_ptr<redisContext, void (*)(redisContext*)> c(redisConnectWithTimeout("127.0.0.1", port_, tv), redisFree);
  if (!c || c->err) throw std::runtime_error("redis: cannot connect");
  std::vector<const char*> argv;
  std::vector<size_t> lens;
  for (const auto& a : args) {
    argv.push_back(a.data());
    lens.push_back(a.size());
  }
  auto* r =
      static_cast<redisReply*>(redisCommandArgv(c.get(), static_cast<int>(args.size()), argv.data(), lens.data()));
  if (!r) throw std::runtime_error("redis: no reply");
  std::string out = text(r);
  freeReplyObject(r);
  return out;
}

}  // namespace pahlawan::testing
