// Shared set-up of the end-to-end tests: one real server per test suite, helpers to register
// parties and post surplus over HTTP.
#pragma once

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include <chrono>
#include <memory>
#include <string>
#include <thread>

#include "http_client.h"
#include "server_process.h"

namespace pahlawan::testing {

inline std::string str(const boost::json::value& v, const char* key) {
  return std::string(v.as_object().at(key).as_string());
}

class ApiTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    server_ = new ServerProcess();
    server_->start();
  }
  static void TearDownTestSuite() {
    EXPECT_EQ(server_->stop(), 0) << server_->output();
    delete server_;
    server_ = nullptr;
  }

  HttpClient client() { return HttpClient("127.0.0.1", server_->port()); }
  const std::string& admin() { return server_->admin_token(); }

  // Returns {id, token}.
  std::pair<std::string, std::string> provider(double lat = -6.2, double lon = 106.8) {
    auto c = client();
    auto r =
        c.call("POST", "/v1/providers", admin(),
               R"({"name":"Warung Bu Sri","lat":)" + std::to_string(lat) + R"(,"lon":)" + std::to_string(lon) + "}");
    EXPECT_EQ(r.status, 201) << r.body;
    return {str(r.json(), "id"), str(r.json(), "token")};
  }
  std::pair<std::string, std::string> ngo(const std::string& extra = "", double lat = -6.21, double lon = 106.81) {
    auto c = client();
    auto r = c.call(
        "POST", "/v1/ngos", admin(),
        R"({"name":"Rumah Singgah","lat":)" + std::to_string(lat) + R"(,"lon":)" + std::to_string(lon) + extra + "}");
    EXPECT_EQ(r.status, 201) << r.body;
    return {str(r.json(), "id"), str(r.json(), "token")};
  }
  boost::json::value post(
      const std::string& provider_token,
      const std::string& body =
          R"({"title":"Nasi kotak","category":"prepared_meal","quantity_kg":12.5,"ttl_seconds":3600})") {
    auto c = client();
    auto r = c.call("POST", "/v1/surplus", provider_token, body);
    EXPECT_EQ(r.status, 201) << r.body;
    return r.json();
  }

  static inline ServerProcess* server_ = nullptr;
};

// Matching offers (or dead-letters) every new item moments after it is posted, which bumps its
// version. Waits, bounded, until that first matching step is visible, and returns the item.
inline boost::json::value after_first_match(HttpClient& c, const std::string& id, const std::string& token) {
  boost::json::value v;
  for (int i = 0; i < 500; ++i) {
    v = c.call("GET", "/v1/surplus/" + id, token).json();
    if (v.is_object() && v.at("version").as_int64() >= 2) return v;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));  // polling a condition, bounded
  }
  ADD_FAILURE() << "item " << id << " was never matched";
  return v;
}

inline void expect_error(const HttpResult& r, int status, const char* code) {
  EXPECT_EQ(r.status, status) << r.body;
  auto v = r.json();
  ASSERT_TRUE(v.is_object()) << r.body;
  ASSERT_TRUE(v.as_object().contains("error")) << r.body;
  EXPECT_EQ(v.at("error").at("code").as_string(), code) << r.body;
  EXPECT_TRUE(v.at("error").at("message").is_string());
}

}  // namespace pahlawan::testing
