#include "promtool.h"

#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>

namespace pahlawan::testing {

PromtoolVerdict promtool_check_metrics(const std::string& exposition) {
  const auto dir = std::filesystem::temp_directory_path();
  const auto in = dir / ("pp-metrics-" + std::to_string(::getpid()) + ".txt");
  std::ofstream(in, std::ios::binary) << exposition;
  const std::string command = "promtool check metrics < '" + in.string() + "' 2>&1";
  PromtoolVerdict v;
  if (FILE* p = ::popen(command.c_str(), "r")) {
    char buf[4096];
    for (size_t n; (n = std::fread(buf, 1, sizeof buf, p)) > 0;) v.output.append(buf, n);
    const int status = ::pclose(p);
    v.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  }
  std::filesystem::remove(in);
  return v;
}

}  // namespace pahlawan::testing
