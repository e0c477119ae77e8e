#include "server/config.h"

#include "adapters/redis/redis_link.h"

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

TEST(Config, TheMatchWindowIsADurationWithItsUnit) {
  EXPECT_EQ(parse_config({}, env_of({}))->match_window_ms, 0);  // one item at a time by default
  EXPECT_EQ(parse_config({"--match-window", "2s"}, env_of({}))->match_window_ms, 2000);
  EXPECT_EQ(parse_config({"--match-window", "1.5s"}, env_of({}))->match_window_ms, 1500);
  EXPECT_EQ(parse_config({"--match-window", "500ms"}, env_of({}))->match_window_ms, 500);
  EXPECT_EQ(parse_config({"--match-window", "0"}, env_of({}))->match_window_ms, 0);
  for (const char* bad : {"2", "-1s", "61s", "2h", "s", ""}) {
    EXPECT_FALSE(parse_config({"--match-window", bad}, env_of({}))) << bad;
  }
  EXPECT_EQ(parse_config({"--max-wait", "30", "--pickup-margin", "60"}, env_of({}))->max_wait_s, 30);
  EXPECT_FALSE(parse_config({"--max-wait", "-1"}, env_of({})));
}

TEST(Config, AReplicaNeedsTheSharedStoreAndBusAndAnAddressTheOthersReach) {
  const std::vector<std::string> shared = {"--store", "postgres://pp@127.0.0.1:5432/pp", "--bus",
                                           "nats://127.0.0.1:4222"};
  auto with = [&](std::vector<std::string> more) {
    std::vector<std::string> args = shared;
    args.insert(args.end(), more.begin(), more.end());
    return parse_config(args, env_of({}));
  };
  auto c = with({"--replica", "r1", "--listen", "127.0.0.1:9001"});
  ASSERT_TRUE(c) << c.status().message();
  EXPECT_EQ(c->advertise, "127.0.0.1:9001") << "the listen address by default";
  EXPECT_EQ(c->lease_ttl_ms, 9000);
  EXPECT_EQ(with({"--replica", "r1", "--advertise", "10.0.0.5:8080"})->advertise, "10.0.0.5:8080");
  EXPECT_FALSE(with({"--replica", "r1", "--listen", "0.0.0.0:8080"})) << "not an address to forward to";
  EXPECT_FALSE(with({"--replica", "r1", "--listen", "127.0.0.1:0"})) << "nor is a port chosen at start";
  EXPECT_FALSE(with({"--replica", "r 1"}));
  EXPECT_FALSE(with({"--replica", "r1", "--lease-ttl-ms", "10"}));
  EXPECT_FALSE(parse_config({"--replica", "r1"}, env_of({}))) << "the embedded store is one process's own";
  EXPECT_FALSE(parse_config({"--replica", "r1", "--store", "postgres://pp@h/pp"}, env_of({}))) << "no bus";
  EXPECT_FALSE(parse_config({"--advertise", "127.0.0.1:1"}, env_of({})));
  EXPECT_TRUE(parse_config({}, env_of({}))->replica.empty()) << "one process by default";
}

TEST(Config, TheSharedHotIndexIsARedisUrl) {
  EXPECT_TRUE(parse_config({}, env_of({}))->hot_url.empty()) << "in-process only by default";
  auto c = parse_config({"--hot", "redis://127.0.0.1:6390/2", "--hot-timeout-ms", "50"}, env_of({}));
  ASSERT_TRUE(c) << c.status().message();
  EXPECT_EQ(c->hot_url, "redis://127.0.0.1:6390/2");
  EXPECT_EQ(c->hot_timeout_ms, 50);
  EXPECT_EQ(parse_config({}, env_of({{"PAHLAWAN_HOT", "redis://h:1"}}))->hot_url, "redis://h:1");
  EXPECT_FALSE(parse_config({"--hot", "memcached://h:1"}, env_of({})));
  EXPECT_FALSE(parse_config({"--hot-timeout-ms", "0"}, env_of({})));
  EXPECT_EQ(parse_config({"--hot-window", "600"}, env_of({}))->hot_window_s, 600) << "not mistaken for --hot";
}

TEST(Config, ARedisUrlNamesHostPortAndDatabase) {
  auto e = parse_redis_url("redis://10.0.0.7:6390/3");
  ASSERT_TRUE(e) << e.status().message();
  EXPECT_EQ(e->host, "10.0.0.7");
  EXPECT_EQ(e->port, 6390);
  EXPECT_EQ(e->db, 3);
  EXPECT_EQ(parse_redis_url("redis://cache")->port, 6379);
  EXPECT_FALSE(parse_redis_url("redis://cache/x"));
  EXPECT_FALSE(parse_redis_url("http://cache:6379"));
  EXPECT_FALSE(parse_redis_url("redis://"));
}

}  // namespace
}  // namespace pahlawan
