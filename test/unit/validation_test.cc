#include "domain/validation.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

namespace pahlawan {
namespace {

const TimePoint kNow = from_unix_ms(1'795'000'000'000);

TEST(Validation, Coordinates) {
  EXPECT_TRUE(validate_coordinates(-6.2, 106.8));
  EXPECT_TRUE(validate_coordinates(90, 180));
  EXPECT_TRUE(validate_coordinates(-90, -180));
  EXPECT_FALSE(validate_coordinates(90.0001, 0));
  EXPECT_FALSE(validate_coordinates(0, -180.5));
  EXPECT_FALSE(validate_coordinates(std::nan(""), 0));
  EXPECT_FALSE(validate_coordinates(0, std::numeric_limits<double>::infinity()));
  EXPECT_EQ(validate_coordinates(91, 0).code(), ErrorCode::kInvalidRequest);
}

TEST(Validation, Quantity) {
  EXPECT_TRUE(validate_quantity(0.1));
  EXPECT_TRUE(validate_quantity(100000));
  EXPECT_FALSE(validate_quantity(0));
  EXPECT_FALSE(validate_quantity(-1));
  EXPECT_FALSE(validate_quantity(100000.01));
  EXPECT_FALSE(validate_quantity(std::nan("")));
}

TEST(Validation, ExpiryWindow) {
  EXPECT_TRUE(validate_expiry(kNow + Millis(1), kNow));
  EXPECT_TRUE(validate_expiry(kNow + std::chrono::hours(24 * 7), kNow));
  EXPECT_FALSE(validate_expiry(kNow, kNow));
  EXPECT_FALSE(validate_expiry(kNow - Millis(1), kNow));
  EXPECT_FALSE(validate_expiry(kNow + std::chrono::hours(24 * 7) + Millis(1), kNow));
}

TEST(Validation, CategoryIsALowerCaseWord) {
  EXPECT_TRUE(validate_category("prepared_meal"));
  EXPECT_TRUE(validate_category("bakery"));
  EXPECT_FALSE(validate_category(""));
  EXPECT_FALSE(validate_category("Bakery"));
  EXPECT_FALSE(validate_category("roti tawar"));
  EXPECT_FALSE(validate_category(std::string(41, 'a')));
}

TEST(Validation, Names) {
  EXPECT_TRUE(validate_name("title", "Nasi goreng, 40 porsi"));
  EXPECT_FALSE(validate_name("title", ""));
  EXPECT_FALSE(validate_name("title", "   "));
  EXPECT_FALSE(validate_name("title", std::string(201, 'x')));
  EXPECT_FALSE(validate_name("title", std::string("a\x01b")));
  EXPECT_NE(validate_name("title", "").message().find("title"), std::string::npos);
}

TEST(Validation, WebhookUrl) {
  EXPECT_TRUE(validate_webhook_url("https://ngo.example/hook"));
  EXPECT_FALSE(validate_webhook_url("ftp://ngo.example/hook"));
  EXPECT_FALSE(validate_webhook_url("https://ngo example/hook"));
}

TEST(WebhookHosts, LoopbackPrivateLinkLocalAndMetadataAddressesAreRefused) {
  for (const char* host : {"127.0.0.1",
                           "127.1.2.3",
                           "10.0.0.8",
                           "172.16.0.1",
                           "172.31.255.255",
                           "192.168.1.1",
                           "169.254.169.254",
                           "100.64.0.1",
                           "0.0.0.0",
                           "255.255.255.255",
                           "224.0.0.1",
                           "[::1]",
                           "::",
                           "[::ffff:127.0.0.1]",
                           "::ffff:169.254.169.254",
                           "fe80::1",
                           "fd00::1",
                           "localhost",
                           "LOCALHOST",
                           "api.localhost"}) {
    EXPECT_TRUE(is_private_host(host)) << host;
  }
  for (const char* host : {"8.8.8.8", "172.32.0.1", "100.128.0.1", "2001:4860:4860::8888", "[2606:4700::1111]",
                           "hooks.example.org", "localhost.example.org"}) {
    EXPECT_FALSE(is_private_host(host)) << host;
  }
  EXPECT_EQ(url_host("https://user@hooks.example.org:8443/a?b"), "hooks.example.org");
  EXPECT_EQ(url_host("http://[::1]:8080/hook"), "[::1]");
  EXPECT_EQ(url_host("http://169.254.169.254/latest/meta-data"), "169.254.169.254");
}

}  // namespace
}  // namespace pahlawan
