// `pahlawan migrate --store postgres://…`: brings a PostgreSQL database to this binary's schema
// (the numbered migrations of adapters/postgres/pg_migrations.cc), once, and says what it applied.
#pragma once

#include <string>
#include <vector>

namespace pahlawan {

// args: the words after "migrate". Returns the process exit code.
int migrate_main(const std::vector<std::string>& args);

}  // namespace pahlawan
