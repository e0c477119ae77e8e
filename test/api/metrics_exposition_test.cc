// /metrics as Prometheus itself reads it: after a workload that touches every family (posts, an
// offer, a claim, refusals), `promtool check metrics` finds nothing to parse-fail or lint. Runs on
// the embedded default and, with the postgres. prefix, on the production data path.
#include <gtest/gtest.h>

#include "api_fixture.h"
#include "promtool.h"

namespace pahlawan::testing {
namespace {

TEST(PromtoolCheck, FindsTheProblemsItIsAskedToFind) {
  // The check itself can fail: a counter without _total, and a line that does not parse.
  auto lint = promtool_check_metrics("# HELP x_seconds X.\n# TYPE x_seconds counter\nx_seconds 1\n");
  EXPECT_EQ(lint.exit_code, 3) << lint.output;
  EXPECT_NE(lint.output.find("_total"), std::string::npos) << lint.output;
  auto garbage = promtool_check_metrics("this is not { an exposition\n");
  EXPECT_EQ(garbage.exit_code, 1) << garbage.output;
}

class MetricsExposition : public ApiTest {};

TEST_F(MetricsExposition, PassesPromtoolAfterAWorkloadThatTouchesEveryFamily) {
  auto c = client();
  auto [pid, ptoken] = provider();
  auto [nid, ntoken] = ngo();
  std::string claimed;
  for (int i = 0; i < 3; ++i) {
    auto item = post(ptoken);
    if (i == 0) claimed = str(item, "id");
  }
  EXPECT_EQ(c.call("POST", "/v1/surplus/" + claimed + "/claim", ntoken).status, 200);
  auto [other_id, other_token] = ngo();
  EXPECT_EQ(c.call("POST", "/v1/surplus/" + claimed + "/claim", other_token).status, 409);
  EXPECT_EQ(c.call("GET", "/v1/surplus/nope", ptoken).status, 404);
  EXPECT_EQ(c.call("GET", "/v1/surplus?lat=-6.2&lon=106.8&radius_m=2000", ntoken).status, 200);
  EXPECT_EQ(c.call("POST", "/v1/surplus", "not-a-token", "{}").status, 401);

  const auto m = c.request("GET", "/metrics");
  ASSERT_EQ(m.status, 200);
  for (const char* family :
       {"surplus_claim_latency_seconds", "food_waste_prevented_tons_total", "matching_engine_saturation_ratio"}) {
    EXPECT_NE(m.body.find("# TYPE " + std::string(family)), std::string::npos) << family;
  }
  EXPECT_NE(m.body.find("\noutbox_lag_seconds{relay=\"local\"} "), std::string::npos) << m.body;
  EXPECT_NE(m.body.find("\noutbox_lag_events{relay=\"local\"} "), std::string::npos) << m.body;
  EXPECT_NE(m.body.find("\nhttp_requests_total{route=\"/v1/surplus/{id}/claim\",code=\"4xx\"} 1\n"), std::string::npos)
      << m.body;
  const auto verdict = promtool_check_metrics(m.body);
  EXPECT_EQ(verdict.exit_code, 0) << verdict.output;
  EXPECT_EQ(verdict.output, "") << "no lint warning either";
}

}  // namespace
}  // namespace pahlawan::testing
