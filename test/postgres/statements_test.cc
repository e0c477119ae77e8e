// How the PostgreSQL store writes items: many rows per statement, one text[] per column, and never
// two updates of one item in one statement (each expects the version the one before it left).
#include "adapters/postgres/pg_statements.h"
#include "store_samples.h"

#include <gtest/gtest.h>

namespace pahlawan::testing {
namespace {

SurplusUpdate change(const std::string& id, int64_t from) {
  Surplus s = sample_surplus(id);
  s.version = from + 1;
  return SurplusUpdate{std::move(s), from};
}

TEST(PgStatements, ItemsAreWrittenManyRowsPerStatementAndAnItemChangesOncePerStatement) {
  const Surplus x = sample_surplus("x"), y = sample_surplus("y");
  const std::vector<SurplusUpdate> ups = {change("a", 1), change("a", 2), change("b", 4), change("c", 1),
                                          change("b", 5)};
  std::vector<const SurplusUpdate*> updates;
  for (const auto& u : ups) updates.push_back(&u);
  std::vector<PgCommand> out;
  pg_statements::surplus_commands({&x, &y}, updates, out);

  ASSERT_EQ(out.size(), 4u);
  EXPECT_STREQ(out[0].statement, "insert_surplus");
  ASSERT_EQ(out[0].params.size(), 25);
  EXPECT_EQ(*out[0].params.at(0), R"({"x","y"})");
  EXPECT_EQ(*out[0].params.at(24), "{NULL,NULL}");  // inserts expect no version
  // The second change of "a" starts a new statement, and so does the second change of "b".
  const std::vector<std::pair<std::string, std::string>> runs = {
      {R"({"a"})", R"({"1"})"}, {R"({"a","b","c"})", R"({"2","4","1"})"}, {R"({"b"})", R"({"5"})"}};
  for (size_t i = 0; i < runs.size(); ++i) {
    const PgCommand& c = out[i + 1];
    EXPECT_STREQ(c.statement, "update_surplus");
    EXPECT_EQ(*c.params.at(0), runs[i].first) << i;
    EXPECT_EQ(*c.params.at(24), runs[i].second) << i;
  }
}

TEST(PgStatements, NothingToWriteIsNoStatement) {
  std::vector<PgCommand> out;
  pg_statements::surplus_commands({}, {}, out);
  EXPECT_TRUE(out.empty());
}

}  // namespace
}  // namespace pahlawan::testing
