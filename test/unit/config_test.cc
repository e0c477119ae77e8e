#include "server/config.h"

#include <gtest/gtest.h>

#include <map>

namespace pahlawan {
namespace {

auto env_of(std::map<std::string, std::string> m) {
  return [m](const char* k) -> std::optional<std::string> {
    auto it = m.find(k);
    return it == m.end() ? std::nullopt : std::optional<std::string>(it->second);
  };
}

TEST(Config, DefaultsMatchTheContract) {
  auto c = parse_config({}, env_of({}));
  ASSERT_TRUE(c);
  EXPECT_EQ(c->listen, "127.0.0.1:8080");
  EXPECT_EQ(c->data_dir, "./data");
  EXPECT_EQ(c->ack_timeout_s, 300);
  EXPECT_EQ(c->shard_level, 13);
  EXPECT_EQ(c->match_radius_m, 10000);
  EXPECT_EQ(c->max_attempts, 5);
  EXPECT_EQ(c->max_pending_offers, 3);
  EXPECT_FALSE(c->routing_url);
}

TEST(Config, FlagsWinOverEnvironment) {
  auto c = parse_config({"--shard-level", "15", "--data-dir=/tmp/x"},
                        env_of({{"PAHLAWAN_SHARD_LEVEL", "12"}, {"PAHLAWAN_ACK_TIMEOUT", "2"}}));
  ASSERT_TRUE(c);
  EXPECT_EQ(c->shard_level, 15);
  EXPECT_EQ(c->data_dir, "/tmp/x");
  EXPECT_EQ(c->ack_timeout_s, 2);
}

TEST(Config, RejectsBadValuesAndUnknownFlags) {
  EXPECT_FALSE(parse_config({"--shard-level", "11"}, env_of({})));
  EXPECT_FALSE(parse_config({"--shard-level", "16"}, env_of({})));
  EXPECT_FALSE(parse_config({"--ack-timeout", "soon"}, env_of({})));
  EXPECT_FALSE(parse_config({"--frobnicate", "1"}, env_of({})));
  EXPECT_FALSE(parse_config({"--listen"}, env_of({})));
  EXPECT_FALSE(parse_config({"--admin-token", "short"}, env_of({})));
}

}  // namespace
}  // namespace pahlawan
