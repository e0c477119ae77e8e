#include "server/db_cli.h"

#include <cstdio>
#include <cstdlib>
#include <memory>

#include "adapters/postgres/pg_archive.h"
#include "adapters/postgres/pg_conn.h"
#include "adapters/postgres/pg_migrations.h"
#include "server/config.h"

namespace pahlawan {

namespace {

// The configuration (flags, then PAHLAWAN_* variables) and a connection to its --store; prints why
// not and sets `exit_code` when there is none.
std::unique_ptr<PgConn> connect_store(const std::vector<std::string>& args, const char* command, Config& config,
                                      int& exit_code) {
  auto parsed = parse_config(args, [](const char* name) -> std::optional<std::string> {
    const char* v = std::getenv(name);
    return v ? std::optional<std::string>(v) : std::nullopt;
  });
  if (!parsed) {
    std::fprintf(stderr, "%s\n", parsed.status().message().c_str());
    exit_code = 2;
    return nullptr;
  }
  config = std::move(*parsed);
  if (config.store_url.empty()) {
    std::fprintf(stderr, "%s needs --store postgres://… (the embedded SQLite store has no %s)\n", command, command);
    exit_code = 2;
    return nullptr;
  }
  auto conn = PgConn::connect(config.store_url);
  if (!conn) {
    std::fprintf(stderr, "%s\n", conn.status().message().c_str());
    exit_code = 1;
    return nullptr;
  }
  return std::move(*conn);
}

int fail(const Status& s) {
  std::fprintf(stderr, "%s\n", s.message().c_str());
  return 1;
}

}  // namespace

int migrate_main(const std::vector<std::string>& args) {
  Config config;
  int exit_code = 0;
  auto conn = connect_store(args, "migrate", config, exit_code);
  if (!conn) return exit_code;
  auto applied = pg_migrate(*conn);
  if (!applied) return fail(applied.status());
  for (int v : *applied) {
    for (const auto& m : pg_migrations()) {
      if (m.version == v) std::printf("applied %d: %s\n", v, m.name);
    }
  }
  std::printf("schema at version %d\n", pg_migrations().back().version);
  return 0;
}

int archive_main(const std::vector<std::string>& args) {
  // --restore TABLE is this command's own; the rest is the server's configuration.
  std::vector<std::string> rest;
  std::string restore;
  for (size_t i = 0; i < args.size(); ++i) {
    if (args[i] == "--restore" && i + 1 < args.size()) {
      restore = args[++i];
    } else {
      rest.push_back(args[i]);
    }
  }
  Config config;
  int exit_code = 0;
  auto conn = connect_store(rest, "archive", config, exit_code);
  if (!conn) return exit_code;
  if (!restore.empty()) {
    auto rows = pg_restore_partition(*conn, restore);
    if (!rows) return fail(rows.status());
    std::printf("restored %s: %lld rows in pp_restored.%s\n", restore.c_str(), static_cast<long long>(*rows),
                restore.c_str());
    return 0;
  }
  if (config.archive_dir.empty()) {
    std::fprintf(stderr, "archive needs --archive-dir DIR (a path on the database server) or --restore TABLE\n");
    return 2;
  }
  auto archived = pg_archive_detached(*conn, config.archive_dir);
  if (!archived) return fail(archived.status());
  for (const auto& a : *archived) {
    std::printf("archived %s: %lld rows, queryable as pp_archive.%s\n", a.table.c_str(), static_cast<long long>(a.rows),
                a.table.c_str());
  }
  std::printf("%zu partitions archived\n", archived->size());
  return 0;
}

}  // namespace pahlawan
