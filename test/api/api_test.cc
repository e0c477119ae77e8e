// Every endpoint of the contract that the embedded server serves, over real HTTP.
#include <boost/asio.hpp>

#include "api_fixture.h"

namespace pahlawan::testing {
namespace {

class Api : public ApiTest {};

TEST_F(Api, HealthReadinessAndMetrics) {
  auto c = client();
  auto h = c.request("GET", "/healthz");
  EXPECT_EQ(h.status, 200);
  EXPECT_EQ(h.json().at("status").as_string(), "ok");
  EXPECT_EQ(c.request("GET", "/readyz").status, 200);
  auto m = c.request("GET", "/metrics");
  EXPECT_EQ(m.status, 200);
  EXPECT_NE(m.headers["content-type"].find("text/plain"), std::string::npos);
  for (const char* name : {"surplus_claim_latency_seconds", "food_waste_prevented_tons_total",
                           "matching_engine_saturation_ratio", "http_requests_total", "store_commit_batch_units"}) {
    EXPECT_NE(m.body.find(std::string("# TYPE ") + name), std::string::npos) << name;
  }
}

TEST_F(Api, RegisterPartiesReturnsTokensOnce) {
  auto c = client();
  auto p = c.call("POST", "/v1/providers", admin(), R"({"name":"Hotel Indah","lat":-6.2,"lon":106.8})");
  ASSERT_EQ(p.status, 201) << p.body;
  EXPECT_EQ(p.json().at("name").as_string(), "Hotel Indah");
  EXPECT_TRUE(p.json().as_object().contains("token"));
  EXPECT_TRUE(p.json().as_object().contains("created_at"));

  auto n =
      c.call("POST", "/v1/ngos", admin(),
             R"({"name":"Bank Pangan","lat":-6.2,"lon":106.8,"kind":"food_bank","categories":["bakery","produce"],)"
             R"("capacity_kg":250,"webhook_url":"https://bank.example/hook"})");
  ASSERT_EQ(n.status, 201) << n.body;
  auto nj = n.json();
  EXPECT_EQ(nj.at("kind").as_string(), "food_bank");
  EXPECT_EQ(nj.at("categories").as_array().size(), 2u);
  EXPECT_TRUE(nj.as_object().contains("webhook_secret"));
  const std::string id = str(nj, "id"), token = str(nj, "token");

  auto got = c.call("GET", "/v1/ngos/" + id, token);
  ASSERT_EQ(got.status, 200) << got.body;
  EXPECT_FALSE(got.json().as_object().contains("token"));  // shown once, never again
  EXPECT_FALSE(got.json().as_object().contains("webhook_secret"));
  EXPECT_EQ(c.call("GET", "/v1/ngos/" + id, admin()).status, 200);
  auto [other_id, other_token] = ngo();
  expect_error(c.call("GET", "/v1/ngos/" + id, other_token), 403, "forbidden");
  expect_error(c.call("GET", "/v1/ngos/no-such-ngo", admin()), 404, "not_found");
}

TEST_F(Api, RegistrationIsAdminOnlyAndValidated) {
  auto c = client();
  auto [pid, ptoken] = provider();
  expect_error(c.call("POST", "/v1/providers", ptoken, R"({"name":"x","lat":0,"lon":0})"), 403, "forbidden");
  expect_error(c.call("POST", "/v1/providers", "", R"({"name":"x","lat":0,"lon":0})"), 401, "unauthorized");
  expect_error(c.call("POST", "/v1/providers", "nope", R"({"name":"x","lat":0,"lon":0})"), 401, "unauthorized");
  expect_error(c.call("POST", "/v1/providers", admin(), R"({"name":"x","lat":91,"lon":0})"), 400, "invalid_request");
  expect_error(c.call("POST", "/v1/providers", admin(), R"({"name":"","lat":1,"lon":0})"), 400, "invalid_request");
  expect_error(c.call("POST", "/v1/ngos", admin(), R"({"name":"x","lat":1,"lon":0,"kind":"bank"})"), 400,
               "invalid_request");
  expect_error(c.call("POST", "/v1/ngos", admin(), R"({"name":"x","lat":1,"lon":0,"categories":["Bad Cat"]})"), 400,
               "invalid_request");
  expect_error(c.call("POST", "/v1/ngos", admin(), R"({"name":"x","lat":1,"lon":0,"capacity_kg":-5})"), 400,
               "invalid_request");
  expect_error(c.call("POST", "/v1/ngos", admin(), R"({"name":"x","lat":1,"lon":0,"webhook_url":"gopher://x"})"), 400,
               "invalid_request");
}

TEST_F(Api, PostGetBrowseClaimPickupLifecycle) {
  auto c = client();
  // A neighbourhood of its own: NGOs other tests register (in the same server) are over 10 km away.
  auto [pid, ptoken] = provider(-6.6, 106.6);
  auto [nid, ntoken] = ngo("", -6.61, 106.61);
  auto posted = post(ptoken);
  const std::string id = str(posted, "id");
  EXPECT_EQ(posted.at("status").as_string(), "available");
  EXPECT_EQ(posted.at("version").as_int64(), 1);
  EXPECT_EQ(posted.at("provider_id").as_string(), pid);
  EXPECT_DOUBLE_EQ(posted.at("lat").as_double(), -6.6);  // defaulted to the provider's location
  EXPECT_FALSE(str(posted, "cell").empty());
  EXPECT_TRUE(posted.at("offer").is_null());
  EXPECT_FALSE(posted.at("dead_lettered").as_bool());

  auto got = c.call("GET", "/v1/surplus/" + id, ntoken);
  ASSERT_EQ(got.status, 200);
  EXPECT_EQ(got.json().at("id"), posted.at("id"));
  // The nearest eligible NGO (ours: 1.6 km away) is offered the item moments after it is posted.
  const auto matched = after_first_match(c, id, ntoken);
  ASSERT_TRUE(matched.at("offer").is_object()) << matched;
  EXPECT_EQ(matched.at("offer").at("ngo_id").as_string(), nid);
  EXPECT_EQ(matched.at("offer").at("attempt").as_int64(), 1);

  auto near = c.call("GET", "/v1/surplus?lat=-6.6005&lon=106.6&radius_m=1000&limit=10", ntoken);
  ASSERT_EQ(near.status, 200) << near.body;
  bool found = false;
  const auto near_json = near.json();
  for (const auto& item : near_json.at("items").as_array()) {
    if (item.at("id").as_string() == id) {
      found = true;
      EXPECT_NEAR(item.at("distance_m").to_number<double>(), 55.6, 1.0);
    }
  }
  EXPECT_TRUE(found);

  auto offers = c.call("GET", "/v1/offers", ntoken);
  ASSERT_EQ(offers.status, 200) << offers.body;
  const auto offers_json = offers.json();
  ASSERT_EQ(offers_json.at("items").as_array().size(), 1u) << offers.body;
  EXPECT_EQ(offers_json.at("items").as_array()[0].at("id"), posted.at("id"));

  auto claimed = c.call("POST", "/v1/surplus/" + id + "/claim", ntoken, "", {{"If-Match", "\"2\""}});
  ASSERT_EQ(claimed.status, 200) << claimed.body;
  EXPECT_EQ(claimed.json().at("status").as_string(), "claimed");
  EXPECT_EQ(claimed.json().at("claimed_by").as_string(), nid);
  EXPECT_EQ(claimed.json().at("version").as_int64(), 3);
  EXPECT_TRUE(claimed.json().at("offer").is_null());  // acknowledging the offer is claiming the item
  EXPECT_TRUE(claimed.json().at("claimed_at").is_string());

  auto after = c.call("GET", "/v1/surplus?lat=-6.6005&lon=106.6&radius_m=1000&limit=500", ntoken);
  const auto after_json = after.json();
  for (const auto& item : after_json.at("items").as_array()) EXPECT_NE(item.at("id").as_string(), id);

  auto picked = c.call("POST", "/v1/surplus/" + id + "/pickup", ntoken);
  ASSERT_EQ(picked.status, 200) << picked.body;
  EXPECT_EQ(picked.json().at("status").as_string(), "picked_up");
  EXPECT_TRUE(picked.json().at("picked_up_at").is_string());
  expect_error(c.call("POST", "/v1/surplus/" + id + "/claim", ntoken), 410, "gone");
  expect_error(c.call("DELETE", "/v1/surplus/" + id, ptoken), 410, "gone");
}

TEST_F(Api, ClaimConflicts) {
  auto c = client();
  auto [pid, ptoken] = provider();
  auto [n1, t1] = ngo();
  auto [n2, t2] = ngo();
  const std::string id = str(post(ptoken), "id");
  expect_error(c.call("POST", "/v1/surplus/" + id + "/claim", t1, "", {{"If-Match", "5"}}), 409, "conflict");
  expect_error(c.call("POST", "/v1/surplus/" + id + "/claim", t1, "", {{"If-Match", "five"}}), 400, "invalid_request");
  ASSERT_EQ(c.call("POST", "/v1/surplus/" + id + "/claim", t1).status, 200);
  EXPECT_EQ(c.call("POST", "/v1/surplus/" + id + "/claim", t1).status, 200);  // repeating is harmless
  expect_error(c.call("POST", "/v1/surplus/" + id + "/claim", t2), 409, "already_claimed");
  expect_error(c.call("POST", "/v1/surplus/" + id + "/pickup", t2), 403, "forbidden");
  expect_error(c.call("POST", "/v1/surplus/" + id + "/claim", ptoken), 403, "forbidden");
  expect_error(c.call("POST", "/v1/surplus/no-such-id/claim", t1), 404, "not_found");
}

TEST_F(Api, CancelByOwnerOnly) {
  auto c = client();
  auto [p1, t1] = provider();
  auto [p2, t2] = provider();
  auto [n, nt] = ngo();
  const std::string id = str(post(t1), "id");
  expect_error(c.call("DELETE", "/v1/surplus/" + id, t2), 403, "forbidden");
  expect_error(c.call("DELETE", "/v1/surplus/" + id, nt), 403, "forbidden");
  auto cancelled = c.call("DELETE", "/v1/surplus/" + id, t1);
  ASSERT_EQ(cancelled.status, 200) << cancelled.body;
  EXPECT_EQ(cancelled.json().at("status").as_string(), "cancelled");
  expect_error(c.call("POST", "/v1/surplus/" + id + "/claim", nt), 410, "gone");
}

TEST_F(Api, IdempotencyKey) {
  auto c = client();
  auto [pid, ptoken] = provider();
  const std::string body = R"({"title":"Roti","category":"bakery","quantity_kg":3,"ttl_seconds":600})";
  auto first = c.call("POST", "/v1/surplus", ptoken, body, {{"Idempotency-Key", "abc"}});
  ASSERT_EQ(first.status, 201);
  auto again = c.call("POST", "/v1/surplus", ptoken, body, {{"Idempotency-Key", "abc"}});
  ASSERT_EQ(again.status, 200);
  EXPECT_EQ(again.json().at("id"), first.json().at("id"));
  expect_error(
      c.call("POST", "/v1/surplus", ptoken, R"({"title":"Roti","category":"bakery","quantity_kg":4,"ttl_seconds":600})",
             {{"Idempotency-Key", "abc"}}),
      409, "conflict");
  // Keys belong to their provider.
  auto [p2, t2] = provider();
  EXPECT_EQ(c.call("POST", "/v1/surplus", t2, body, {{"Idempotency-Key", "abc"}}).status, 201);
}

TEST_F(Api, BadSurplusInputIsRejectedAndChangesNothing) {
  auto c = client();
  auto [pid, ptoken] = provider(-7.0, 110.0);
  auto [nid, ntoken] = ngo();
  const std::vector<std::string> bad = {
      "",
      "not json",
      "[1,2,3]",
      R"("a string")",
      R"({"title":"x","category":"bakery","quantity_kg":NaN,"ttl_seconds":60})",
      R"({"title":"x","category":"bakery","quantity_kg":Infinity,"ttl_seconds":60})",
      R"({"title":"x","category":"bakery","quantity_kg":1e999,"ttl_seconds":60})",
      R"({"title":"x","category":"bakery","quantity_kg":0,"ttl_seconds":60})",
      R"({"title":"x","category":"bakery","quantity_kg":-3,"ttl_seconds":60})",
      R"({"title":"x","category":"bakery","quantity_kg":100001,"ttl_seconds":60})",
      R"({"title":"x","category":"bakery","quantity_kg":"3","ttl_seconds":60})",
      R"({"category":"bakery","quantity_kg":3,"ttl_seconds":60})",
      R"({"title":7,"category":"bakery","quantity_kg":3,"ttl_seconds":60})",
      R"({"title":"x","category":"Bakery!","quantity_kg":3,"ttl_seconds":60})",
      R"({"title":"x","category":"bakery","quantity_kg":3})",
      R"({"title":"x","category":"bakery","quantity_kg":3,"ttl_seconds":0})",
      R"({"title":"x","category":"bakery","quantity_kg":3,"ttl_seconds":604801})",
      R"({"title":"x","category":"bakery","quantity_kg":3,"ttl_seconds":1.5})",
      R"({"title":"x","category":"bakery","quantity_kg":3,"expires_at":"2001-01-01T00:00:00Z"})",
      R"({"title":"x","category":"bakery","quantity_kg":3,"expires_at":"2999-01-01T00:00:00Z"})",
      R"({"title":"x","category":"bakery","quantity_kg":3,"expires_at":"tomorrow"})",
      R"({"title":"x","category":"bakery","quantity_kg":3,"ttl_seconds":60,"expires_at":"2999-01-01T00:00:00Z"})",
      R"({"title":"x","category":"bakery","quantity_kg":3,"ttl_seconds":60,"lat":95,"lon":0})",
      R"({"title":"x","category":"bakery","quantity_kg":3,"ttl_seconds":60,"lat":0,"lon":-181})",
      R"({"title":"x","category":"bakery","quantity_kg":3,"ttl_seconds":60,"lat":0})",
      "{\"title\":\"\xff\xfe\",\"category\":\"bakery\",\"quantity_kg\":3,\"ttl_seconds\":60}",
      std::string(5000, '[') + std::string(5000, ']'),
      R"({"title":"x","category":"bakery","quantity_kg":3,"ttl_seconds":60)",
  };
  for (const auto& body : bad) {
    expect_error(c.call("POST", "/v1/surplus", ptoken, body), 400, "invalid_request");
  }
  // Nothing of the above was stored: the provider's neighbourhood is still empty.
  auto near = c.call("GET", "/v1/surplus?lat=-7.0&lon=110.0&radius_m=50000&limit=500", ntoken);
  ASSERT_EQ(near.status, 200);
  EXPECT_TRUE(near.json().at("items").as_array().empty()) << near.body;
  expect_error(
      c.call("POST", "/v1/surplus", ntoken, R"({"title":"x","category":"bakery","quantity_kg":3,"ttl_seconds":60})"),
      403, "forbidden");
}

TEST_F(Api, OversizedBodyIs413) {
  auto c = client();
  auto [pid, ptoken] = provider();
  const std::string huge = R"({"title":")" + std::string(70 * 1024, 'a') + R"(","category":"bakery"})";
  expect_error(c.call("POST", "/v1/surplus", ptoken, huge), 413, "payload_too_large");
}

TEST_F(Api, BrowseParametersAreChecked) {
  auto c = client();
  auto [nid, ntoken] = ngo();
  auto [pid, ptoken] = provider();
  for (const char* q : {"", "?lat=1", "?lon=1", "?lat=abc&lon=1", "?lat=91&lon=0", "?lat=0&lon=0&radius_m=0",
                        "?lat=0&lon=0&radius_m=50001", "?lat=0&lon=0&limit=0", "?lat=0&lon=0&limit=501",
                        "?lat=0&lon=0&limit=2.5", "?lat=0&lon=0&category=BAD%20CAT", "?lat=nan&lon=0"}) {
    expect_error(c.call("GET", std::string("/v1/surplus") + q, ntoken), 400, "invalid_request");
  }
  expect_error(c.call("GET", "/v1/surplus?lat=0&lon=0", ptoken), 403, "forbidden");
  EXPECT_EQ(c.call("GET", "/v1/surplus?lat=0&lon=0", admin()).status, 200);
}

TEST_F(Api, BrowseFiltersByCategoryAndOrdersByDistance) {
  auto c = client();
  auto [pid, ptoken] = provider(-6.9, 107.6);
  auto [nid, ntoken] = ngo();
  auto body = [](const char* cat, double lat) {
    return std::string(R"({"title":"t","category":")") + cat + R"(","quantity_kg":2,"ttl_seconds":900,"lat":)" +
           std::to_string(lat) + R"(,"lon":107.6})";
  };
  const std::string far = str(post(ptoken, body("dairy", -6.92)), "id");
  const std::string near = str(post(ptoken, body("dairy", -6.901)), "id");
  post(ptoken, body("bakery", -6.9005));
  auto r = c.call("GET", "/v1/surplus?lat=-6.9&lon=107.6&radius_m=5000&category=dairy", ntoken);
  ASSERT_EQ(r.status, 200);
  const auto body_json = r.json();
  const auto& items = body_json.at("items").as_array();
  ASSERT_EQ(items.size(), 2u) << r.body;
  EXPECT_EQ(items[0].at("id").as_string(), near);
  EXPECT_EQ(items[1].at("id").as_string(), far);
  EXPECT_LT(items[0].at("distance_m").to_number<double>(), items[1].at("distance_m").to_number<double>());
}

TEST_F(Api, UnknownRoutesAndWrongMethods) {
  auto c = client();
  expect_error(c.request("GET", "/v2/nothing"), 404, "not_found");
  expect_error(c.request("GET", "/v1/surplus/x/y/z"), 404, "not_found");
  auto r = c.call("PUT", "/v1/surplus", admin());
  expect_error(r, 405, "method_not_allowed");
  EXPECT_EQ(r.headers["allow"], "GET, POST");
  expect_error(c.call("DELETE", "/v1/providers", admin()), 405, "method_not_allowed");
  expect_error(c.request("POST", "/healthz"), 405, "method_not_allowed");
}

TEST_F(Api, GarbageOnTheWireIsAnsweredNotFatal) {
  // A malformed request line gets a 400 and the server keeps serving.
  auto c = client();
  auto raw = [&](const std::string& bytes) {
    boost::asio::io_context io;
    boost::asio::ip::tcp::socket s(io);
    s.connect({boost::asio::ip::make_address("127.0.0.1"), static_cast<unsigned short>(server_->port())});
    // The server may answer and close before it has read everything we send: a broken pipe on our
    // side is an expected outcome, not a failure.
    boost::system::error_code ec;
    boost::asio::write(s, boost::asio::buffer(bytes), ec);
    s.shutdown(boost::asio::ip::tcp::socket::shutdown_send, ec);
    std::string reply;
    char buf[4096];
    for (;;) {
      size_t n = s.read_some(boost::asio::buffer(buf), ec);
      if (ec) break;
      reply.append(buf, n);
    }
    return reply;
  };
  EXPECT_EQ(raw("THIS IS NOT HTTP\r\n\r\n").rfind("HTTP/1.1 400", 0), 0u);
  raw("GET / HTTP/1.1\r\nContent-Length: 99999999999999999999\r\n\r\n");
  raw(std::string(100000, 'A'));
  EXPECT_EQ(c.request("GET", "/healthz").status, 200);
}

TEST(RateLimit, ATokenOverItsBudgetGets429WithRetryAfter) {
  ServerProcess server("", {"--rate-limit", "1"});  // 1 request/s, bursts of 2
  server.start();
  HttpClient c("127.0.0.1", server.port());
  auto n = c.call("POST", "/v1/ngos", server.admin_token(), R"({"name":"N","lat":0,"lon":0})");
  ASSERT_EQ(n.status, 201);
  const std::string token = str(n.json(), "token");
  EXPECT_EQ(c.call("GET", "/v1/surplus?lat=0&lon=0", token).status, 200);
  EXPECT_EQ(c.call("GET", "/v1/surplus?lat=0&lon=0", token).status, 200);
  auto limited = c.call("GET", "/v1/surplus?lat=0&lon=0", token);
  expect_error(limited, 429, "rate_limited");
  EXPECT_EQ(limited.headers["retry-after"], "1");
  // The admin is not limited, and other tokens have their own budget.
  for (int i = 0; i < 5; ++i) EXPECT_EQ(c.call("GET", "/v1/surplus?lat=0&lon=0", server.admin_token()).status, 200);
  EXPECT_EQ(server.stop(), 0);
}

}  // namespace
}  // namespace pahlawan::testing
