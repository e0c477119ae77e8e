// ServerProcess: a real `pahlawan serve` child process on an ephemeral port with its own data
// directory, for end-to-end tests. start() returns once the server printed its URL (it is then
// listening); stop() sends SIGTERM and returns the exit status; kill() is SIGKILL, for crash tests.
// With PAHLAWAN_TEST_STACK=postgres in the environment the server keeps its data in PostgreSQL (the
// server scripts/test.sh starts): one database per data directory, so a restart on the same
// directory finds the same data, dropped with a directory the object made itself.
#pragma once

#include <sys/types.h>

#include <memory>
#include <string>
#include <vector>

namespace pahlawan::testing {

class PgTestDb;

class ServerProcess {
 public:
  // data_dir empty: a fresh temporary directory (removed by the destructor).
  explicit ServerProcess(std::string data_dir = "", std::vector<std::string> extra_args = {});
  ~ServerProcess();

  void start();
  // For a server expected to refuse to start: runs it to its exit and returns the exit code; stdout
  // and stderr both go to output().
  int run_to_exit();
  int stop();  // SIGTERM; returns the exit code (or 128 + signal)
  void kill();
  int port() const { return port_; }
  pid_t pid() const { return pid_; }
  // Limits the child's open file descriptors (RLIMIT_NOFILE); call before start().
  void set_fd_limit(int n) { fd_limit_ = n; }
  // Arms fault points in the child (PAHLAWAN_FAULTS, see common/fault.h) from the next start() on;
  // empty disarms them.
  void set_faults(std::string spec) { faults_ = std::move(spec); }
  // Waits for the child to end by itself (a fault point's crash); returns its exit code or
  // 128 + signal, or -1 if it is still running after `timeout_ms`.
  int wait_exit(int timeout_ms);
  const std::string& data_dir() const { return data_dir_; }
  const std::string& admin_token() const { return admin_token_; }
  // Everything the child has written to stdout so far (and stderr, for run_to_exit): it goes to a
  // file, not a pipe, so a server that logs a line per request never blocks on a reader.
  std::string output() const;

 private:
  void spawn(bool with_stderr);
  std::string data_dir_;
  bool own_dir_ = false;
  std::unique_ptr<PgTestDb> pg_;  // the stack is PostgreSQL
  std::vector<std::string> extra_args_;
  std::string admin_token_ = "test-admin-token-0123456789";
  pid_t pid_ = -1;
  std::string out_path_;  // the child's stdout
  int port_ = 0;
  int fd_limit_ = 0;
  std::string faults_;
};

// Path of the server binary under test (set by CMake).
const char* server_binary();

}  // namespace pahlawan::testing
