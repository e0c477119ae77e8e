// pahlawan: the one binary. `pahlawan serve` runs the platform on the embedded default.
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "common/fault.h"
#include "server/config.h"
#include "server/db_cli.h"
#include "server/server.h"
#include "sim/sim_cli.h"

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  if (args.empty() || args[0] == "--help" || args[0] == "-h" || args[0] == "help") {
    std::printf("pahlawan — food-rescue platform server\n\n%s\n%s", pahlawan::config_usage().c_str(),
                pahlawan::sim::simulate_usage().c_str());
    return args.empty() ? 2 : 0;
  }
  if (args[0] == "version" || args[0] == "--version") {
    std::printf("pahlawan 0.1.0\n");
    return 0;
  }
  if (args[0] == "simulate") return pahlawan::sim::simulate_main({args.begin() + 1, args.end()});
  if (args[0] == "migrate") return pahlawan::migrate_main({args.begin() + 1, args.end()});
  if (args[0] == "archive") return pahlawan::archive_main({args.begin() + 1, args.end()});
  if (args[0] != "serve") {
    std::fprintf(stderr, "unknown command '%s'\n\n%s", args[0].c_str(), pahlawan::config_usage().c_str());
    return 2;
  }
  args.erase(args.begin());
  auto config = pahlawan::parse_config(args, [](const char* name) -> std::optional<std::string> {
    const char* v = std::getenv(name);
    return v ? std::optional<std::string>(v) : std::nullopt;
  });
  if (!config) {
    std::fprintf(stderr, "%s\n\n%s", config.status().message().c_str(), pahlawan::config_usage().c_str());
    return 2;
  }
  // Test builds only: crash, stall or fail at named points, as armed by a crash test.
  if (const char* spec = std::getenv("PAHLAWAN_FAULTS"); spec && *spec) {
    auto armings = pahlawan::fault::parse(spec);
    if (!pahlawan::fault::compiled_in() || !armings) {
      std::fprintf(stderr, "PAHLAWAN_FAULTS: %s\n",
                   armings ? "fault points are not compiled into this build" : armings.status().message().c_str());
      return 2;
    }
    for (const auto& a : *armings) pahlawan::fault::arm(a);
  }
  return pahlawan::run_server(*config);
}
