#include "nats_server_process.h"

#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <thread>

#include <nats/nats.h>

#include <gtest/gtest.h>

#include "polling.h"

namespace pahlawan::testing {

NatsServerProcess::NatsServerProcess() {
  char tmpl[] = "/tmp/pahlawan-nats-XXXXXX";
  dir_ = mkdtemp(tmpl);
  port_ = free_loopback_port();
}

NatsServerProcess::~NatsServerProcess() {
  stop();
  std::filesystem::remove_all(dir_);
}

void NatsServerProcess::start() {
  const std::string port = std::to_string(port_);
  pid_ = fork();
  if (pid_ == 0) {
    const std::string log = dir_ + "/server.log";
    execlp("nats-server", "nats-server", "-js", "-sd", dir_.c_str(), "-a", "127.0.0.1", "-p", port.c_str(), "-l",
           log.c_str(), static_cast<char*>(nullptr));
    _exit(127);
  }
  // Ready once it accepts a client and JetStream answers (it is enabled a moment after the port
  // opens; a publish before that fails): try until both hold (bounded), the process being ours.
  for (auto until = std::chrono::steady_clock::now() + std::chrono::seconds(20);;) {
    natsConnection* nc = nullptr;
    if (natsConnection_ConnectTo(&nc, url().c_str()) == NATS_OK) {
      jsCtx* js = nullptr;
      jsAccountInfo* info = nullptr;
      const bool ready = natsConnection_JetStream(&js, nc, nullptr) == NATS_OK &&
                         js_GetAccountInfo(&info, js, nullptr, nullptr) == NATS_OK;
      if (info) jsAccountInfo_Destroy(info);
      if (js) jsCtx_Destroy(js);
      natsConnection_Destroy(nc);
      if (ready) return;
    }
    int status = 0;
    ASSERT_EQ(waitpid(pid_, &status, WNOHANG), 0) << "nats-server exited (is it installed?)";
    ASSERT_LT(std::chrono::steady_clock::now(), until) << "nats-server did not accept connections";
    std::this_thread::sleep_for(std::chrono::milliseconds(20));  // pacing the retries, not synchronising
  }
}

void NatsServerProcess::stop() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGTERM);
  int status = 0;
  waitpid(pid_, &status, 0);
  pid_ = -1;
}

std::vector<NatsServerProcess::Message> NatsServerProcess::read_stream(const std::string& stream) const {
  std::vector<Message> out;
  natsConnection* nc = nullptr;
  jsCtx* js = nullptr;
  if (natsConnection_ConnectTo(&nc, url().c_str()) != NATS_OK) return out;
  if (natsConnection_JetStream(&js, nc, nullptr) == NATS_OK) {
    jsStreamInfo* info = nullptr;
    if (js_GetStreamInfo(&info, js, stream.c_str(), nullptr, nullptr) == NATS_OK) {
      for (uint64_t seq = info->State.FirstSeq; seq && seq <= info->State.LastSeq; ++seq) {
        natsMsg* m = nullptr;
        if (js_GetMsg(&m, js, stream.c_str(), seq, nullptr, nullptr) != NATS_OK) continue;
        Message msg{seq, natsMsg_GetSubject(m), std::string(natsMsg_GetData(m), natsMsg_GetDataLength(m)), {}};
        const char** keys = nullptr;
        int n = 0;
        if (natsMsgHeader_Keys(m, &keys, &n) == NATS_OK) {
          for (int i = 0; i < n; ++i) {
            const char* v = nullptr;
            if (natsMsgHeader_Get(m, keys[i], &v) == NATS_OK) msg.headers[keys[i]] = v;
          }
          free(static_cast<void*>(keys));
        }
        out.push_back(std::move(msg));
        natsMsg_Destroy(m);
      }
      jsStreamInfo_Destroy(info);
    }
    jsCtx_Destroy(js);
  }
  natsConnection_Destroy(nc);
  return out;
}

}  // namespace pahlawan::testing
