#include "server_process.h"

#include <cctype>

#include "pg_test_db.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <stdexcept>

namespace pahlawan::testing {

const char* server_binary() {
  const char* p = std::getenv("PAHLAWAN_BIN");
  return p ? p : PAHLAWAN_BIN_DEFAULT;
}

ServerProcess::ServerProcess(std::string data_dir, std::vector<std::string> extra_args)
    : data_dir_(std::move(data_dir)), extra_args_(std::move(extra_args)) {
  if (data_dir_.empty()) {
    char tmpl[] = "/tmp/pahlawan-e2e-XXXXXX";
    data_dir_ = mkdtemp(tmpl);
    own_dir_ = true;
  }
  if (const char* stack = std::getenv("PAHLAWAN_TEST_STACK"); stack && std::string(stack) == "postgres") {
    // The database is named for the data directory: /tmp/pahlawan-e2e-Ab3xYz → pp_e2e_ab3xyz.
    std::string name = "pp_e2e_" + std::filesystem::path(data_dir_).filename().string();
    for (auto& ch : name) ch = std::isalnum(static_cast<unsigned char>(ch)) ? std::tolower(ch) : '_';
    pg_ = std::make_unique<PgTestDb>(name, own_dir_);
    extra_args_.insert(extra_args_.begin(), {std::string("--store"), pg_->url()});
  }
}

ServerProcess::~ServerProcess() {
  if (pid_ > 0) kill();
  pg_.reset();
  if (own_dir_) std::filesystem::remove_all(data_dir_);
}

void ServerProcess::spawn(bool with_stderr) {
  int fds[2];
  if (pipe(fds) != 0) throw std::runtime_error("pipe failed");
  std::vector<std::string> args = {server_binary(), "serve",   "--listen",      "127.0.0.1:0",
                                   "--data-dir",    data_dir_, "--admin-token", admin_token_};
  args.insert(args.end(), extra_args_.begin(), extra_args_.end());
  pid_ = fork();
  if (pid_ == 0) {
    if (fd_limit_ > 0) {
      // The soft limit only: the test may raise it again (prlimit) without privilege.
      rlimit lim{};
      getrlimit(RLIMIT_NOFILE, &lim);
      lim.rlim_cur = static_cast<rlim_t>(fd_limit_);
      setrlimit(RLIMIT_NOFILE, &lim);
    }
    if (faults_.empty()) {
      unsetenv("PAHLAWAN_FAULTS");
    } else {
      setenv("PAHLAWAN_FAULTS", faults_.c_str(), 1);
    }
    dup2(fds[1], STDOUT_FILENO);
    if (with_stderr) dup2(fds[1], STDERR_FILENO);
    close(fds[0]);
    close(fds[1]);
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    execv(argv[0], argv.data());
    _exit(127);
  }
  close(fds[1]);
  out_fd_ = fds[0];
}

int ServerProcess::run_to_exit() {
  spawn(true);
  char buf[4096];
  ssize_t n;
  while ((n = read(out_fd_, buf, sizeof buf)) > 0) output_.append(buf, static_cast<size_t>(n));
  close(out_fd_);
  int status = 0;
  waitpid(pid_, &status, 0);
  pid_ = -1;
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

void ServerProcess::start() {
  spawn(false);
  // Read stdout until the URL line; bounded by a deadline so a broken server fails the test.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  const std::string marker = "listening on http://127.0.0.1:";
  while (std::chrono::steady_clock::now() < deadline) {
    pollfd p{out_fd_, POLLIN, 0};
    if (poll(&p, 1, 1000) <= 0) continue;
    char buf[4096];
    const ssize_t n = read(out_fd_, buf, sizeof buf);
    if (n <= 0) break;
    output_.append(buf, static_cast<size_t>(n));
    const auto at = output_.find(marker);
    if (at != std::string::npos && output_.find(' ', at + marker.size()) != std::string::npos) {
      port_ = std::atoi(output_.c_str() + at + marker.size());
      // Keep draining stdout in the background so the server never blocks on a full pipe.
      fcntl(out_fd_, F_SETFL, O_NONBLOCK);
      return;
    }
  }
  throw std::runtime_error("server did not start; output:\n" + output_);
}

int ServerProcess::stop() {
  if (pid_ <= 0) return -1;
  ::kill(pid_, SIGTERM);
  int status = 0;
  waitpid(pid_, &status, 0);
  pid_ = -1;
  char buf[4096];
  ssize_t n;
  while ((n = read(out_fd_, buf, sizeof buf)) > 0) output_.append(buf, static_cast<size_t>(n));
  close(out_fd_);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

int ServerProcess::wait_exit(int timeout_ms) {
  if (pid_ <= 0) return -1;
  int status = 0;
  // Polls the child's state (not a guess at how long it needs): returns as soon as it has ended.
  for (int waited = 0; waitpid(pid_, &status, WNOHANG) == 0; waited += 10) {
    if (waited >= timeout_ms) return -1;
    usleep(10000);
  }
  pid_ = -1;
  close(out_fd_);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

void ServerProcess::kill() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGKILL);
  int status = 0;
  waitpid(pid_, &status, 0);
  pid_ = -1;
  close(out_fd_);
}

}  // namespace pahlawan::testing
