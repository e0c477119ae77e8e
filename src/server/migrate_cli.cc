#include "server/migrate_cli.h"

#include <cstdio>
#include <cstdlib>

#include "adapters/postgres/pg_conn.h"
#include "adapters/postgres/pg_migrations.h"
#include "server/config.h"

namespace pahlawan {

int migrate_main(const std::vector<std::string>& args) {
  auto config = parse_config(args, [](const char* name) -> std::optional<std::string> {
    const char* v = std::getenv(name);
    return v ? std::optional<std::string>(v) : std::nullopt;
  });
  if (!config) {
    std::fprintf(stderr, "%s\n", config.status().message().c_str());
    return 2;
  }
  if (config->store_url.empty()) {
    std::fprintf(stderr, "migrate needs --store postgres://… (the embedded SQLite store migrates itself)\n");
    return 2;
  }
  auto conn = PgConn::connect(config->store_url);
  if (!conn) {
    std::fprintf(stderr, "%s\n", conn.status().message().c_str());
    return 1;
  }
  auto applied = pg_migrate(**conn);
  if (!applied) {
    std::fprintf(stderr, "%s\n", applied.status().message().c_str());
    return 1;
  }
  for (int v : *applied) {
    for (const auto& m : pg_migrations()) {
      if (m.version == v) std::printf("applied %d: %s\n", v, m.name);
    }
  }
  std::printf("schema at version %d\n", pg_migrations().back().version);
  return 0;
}

}  // namespace pahlawan
