// The PostgreSQL store's administrative commands:
//   `pahlawan migrate --store postgres://…`: brings a database to this binary's schema (the numbered
//   migrations of adapters/postgres/pg_migrations.cc), once, and says what it applied.
//   `pahlawan archive --store postgres://… --archive-dir DIR`: archives the partitions retention
//   detached; `--restore TABLE` loads one back (adapters/postgres/pg_archive.h).
#pragma once

#include <string>
#include <vector>

namespace pahlawan {

// args: the words after the command's name. Each returns the process exit code.
int migrate_main(const std::vector<std::string>& args);
int archive_main(const std::vector<std::string>& args);

}  // namespace pahlawan
