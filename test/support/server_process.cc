#include "server_process.h"

#include <cctype>

#include "pg_test_db.h"
#include "text_file.h"

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
  if (!out_path_.empty()) unlink(out_path_.c_str());
}

void ServerProcess::spawn(bool with_stderr) {
  if (out_path_.empty()) {
    char tmpl[] = "/tmp/pahlawan-out-XXXXXX";
    const int fd = mkstemp(tmpl);
    if (fd < 0) throw std::runtime_error("mkstemp failed");
    close(fd);
    out_path_ = tmpl;
  }
  // Each start writes the file afresh: output() is this run's.
  const int out = open(out_path_.c_str(), O_WRONLY | O_TRUNC | O_APPEND | O_CLOEXEC);
  if (out < 0) throw std::runtime_error("cannot open " + out_path_);
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
    dup2(out, STDOUT_FILENO);
    if (with_stderr) dup2(out, STDERR_FILENO);
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    execv(argv[0], argv.data());
    _exit(127);
  }
  close(out);
}

std::string ServerProcess::output() const {
  if (out_path_.empty()) return {};
  return read_text_file(out_path_);
}

int ServerProcess::run_to_exit() {
  spawn(true);
  int status = 0;
  waitpid(pid_, &status, 0);
  pid_ = -1;
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

void ServerProcess::start() {
  spawn(false);
  // Poll the output until the URL line; bounded by a deadline so a broken server fails the test.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  const std::string marker = "listening on http://127.0.0.1:";
  while (std::chrono::steady_clock::now() < deadline) {
    const std::string out = output();
    const auto at = out.find(marker);
    // The port is whole once something other than a digit follows it (the log line's closing quote).
    const auto end = at == std::string::npos ? at : out.find_first_not_of("0123456789", at + marker.size());
    if (end != std::string::npos && end > at + marker.size()) {
      port_ = std::atoi(out.c_str() + at + marker.size());
      return;
    }
    int status = 0;
    if (waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      break;  // it ended before it listened
    }
    usleep(5000);  // polling a file the child writes: there is nothing to wait on
  }
  throw std::runtime_error("server did not start; output:\n" + output());
}

int ServerProcess::stop() {
  if (pid_ <= 0) return -1;
  ::kill(pid_, SIGTERM);
  int status = 0;
  waitpid(pid_, &status, 0);
  pid_ = -1;
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
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

void ServerProcess::kill() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGKILL);
  int status = 0;
  waitpid(pid_, &status, 0);
  pid_ = -1;
}

}  // namespace pahlawan::testing
