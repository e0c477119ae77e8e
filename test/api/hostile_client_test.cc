// What a hostile or broken client can do to a running server, and what it must not be able to:
// trickled requests, clients that never read, too many connections, HEAD framing, odd headers,
// a process out of file descriptors. Each test fails on the code before its fix.
#include <sys/resource.h>
#include <sys/stat.h>

#include <cstdlib>
#include <fstream>
#include <set>
#include <sstream>
#include <thread>

#include "api_fixture.h"
#include "raw_connection.h"

namespace pahlawan::testing {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

double metric(HttpClient& c, const std::string& name) {
  const auto body = c.request("GET", "/metrics").body;
  std::istringstream in(body);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(name + " ", 0) == 0) return std::stod(line.substr(name.size() + 1));
  }
  return -1;
}

size_t count_of(const std::string& haystack, const std::string& needle) {
  size_t n = 0;
  for (size_t at = haystack.find(needle); at != std::string::npos; at = haystack.find(needle, at + 1)) ++n;
  return n;
}

class Hostile : public ApiTest {};

TEST_F(Hostile, HeadAnswersCarryNoBodySoKeepAliveFramingHolds) {
  for (const std::string path : {"/healthz", "/metrics"}) {
    RawConnection conn(server_->port());
    ASSERT_TRUE(conn.connected());
    // HEAD then GET pipelined on one connection: the GET's status line must follow the HEAD's headers.
    ASSERT_TRUE(conn.send_all("HEAD " + path + " HTTP/1.1\r\nHost: x\r\n\r\nGET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"));
    std::string got;
    ASSERT_TRUE(conn.read_until(got, R"({"status":"ok"})", seconds(10))) << got;
    const auto end_of_head = got.find("\r\n\r\n");
    ASSERT_NE(end_of_head, std::string::npos);
    EXPECT_EQ(got.rfind("HTTP/1.1 200", 0), 0u) << got;
    EXPECT_NE(got.substr(0, end_of_head).find("Content-Length"), std::string::npos) << got;
    EXPECT_EQ(got.compare(end_of_head + 4, 12, "HTTP/1.1 200"), 0) << path << ": a body followed the HEAD answer:\n"
                                                                   << got;
  }
}

TEST_F(Hostile, BearerSchemeIsCaseInsensitiveAndADuplicateAuthorizationIsRefused) {
  auto c = client();
  EXPECT_EQ(c.request("GET", "/v1/dlq", "", {{"Authorization", "bearer " + admin()}}).status, 200);
  EXPECT_EQ(c.request("GET", "/v1/dlq", "", {{"Authorization", "BEARER " + admin()}}).status, 200);
  expect_error(c.request("GET", "/v1/dlq", "", {{"Authorization", "Basic " + admin()}}), 401, "unauthorized");
  expect_error(c.request("GET", "/v1/dlq", "", {{"Authorization", "Bearer"}}), 401, "unauthorized");
  // Two tokens: which one counts is a guess a proxy and the server could make differently.
  expect_error(c.request("GET", "/v1/dlq", "",
                         {{"Authorization", "Bearer " + admin()}, {"Authorization", "Bearer someone-else"}}),
               400, "invalid_request");
}

TEST_F(Hostile, RegistrationAnswersAreNeverCached) {
  auto c = client();
  auto p = c.call("POST", "/v1/providers", admin(), R"({"name":"Toko Roti","lat":-6.2,"lon":106.8})");
  ASSERT_EQ(p.status, 201);
  EXPECT_EQ(p.headers["cache-control"], "no-store");
  auto n = c.call("POST", "/v1/ngos", admin(),
                  R"({"name":"Panti","lat":-6.2,"lon":106.8,"webhook_url":"https://panti.example/hook"})");
  ASSERT_EQ(n.status, 201);
  EXPECT_EQ(n.headers["cache-control"], "no-store");
}

TEST_F(Hostile, DataDirectoryAndFilesAreReadableByTheServerAlone) {
  post(provider().second);  // something in the database and the journal
  std::vector<std::string> names = {"", "/events.jsonl"};
  const char* stack = std::getenv("PAHLAWAN_TEST_STACK");
  if (!stack || std::string(stack) != "postgres") names.push_back("/pahlawan.db");  // the embedded store's file
  for (const std::string& name : names) {
    struct stat st {};
    const std::string path = server_->data_dir() + name;
    ASSERT_EQ(::stat(path.c_str(), &st), 0) << path;
    EXPECT_EQ(st.st_mode & 077, 0u) << path << " mode " << std::oct << (st.st_mode & 0777);
  }
}

// A leaked token is replaced or revoked by the admin; the old one stops working at once, and each
// admin action is on the record (the outbox, hence events.jsonl).
TEST_F(Hostile, TheAdminRotatesAndRevokesTokensAndEveryActionIsAudited) {
  auto c = client();
  auto [pid, ptoken] = provider();
  auto [nid, ntoken] = ngo();
  expect_error(c.call("POST", "/v1/providers/" + pid + "/token", ptoken), 403, "forbidden");
  expect_error(c.call("POST", "/v1/providers/no-such-provider/token", admin()), 404, "not_found");

  auto rotated = c.call("POST", "/v1/providers/" + pid + "/token", admin());
  ASSERT_EQ(rotated.status, 200) << rotated.body;
  EXPECT_EQ(rotated.headers["cache-control"], "no-store");
  const std::string fresh = str(rotated.json(), "token");
  EXPECT_NE(fresh, ptoken);
  expect_error(c.call("POST", "/v1/surplus", ptoken,
                      R"({"title":"Roti","category":"bakery","quantity_kg":2,"ttl_seconds":900})"),
               401, "unauthorized");
  EXPECT_EQ(
      c.call("POST", "/v1/surplus", fresh, R"({"title":"Roti","category":"bakery","quantity_kg":2,"ttl_seconds":900})")
          .status,
      201);

  EXPECT_EQ(c.call("GET", "/v1/ngos/" + nid, ntoken).status, 200);
  auto revoked = c.call("DELETE", "/v1/ngos/" + nid + "/token", admin());
  ASSERT_EQ(revoked.status, 200) << revoked.body;
  EXPECT_TRUE(revoked.json().at("revoked").as_bool());
  EXPECT_FALSE(revoked.json().as_object().contains("token"));
  expect_error(c.call("GET", "/v1/ngos/" + nid, ntoken), 401, "unauthorized");

  // The audit trail reaches the journal through the relay: wait for it, bounded.
  std::string journal;
  for (int i = 0; i < 500 && journal.find("admin.token_revoked") == std::string::npos; ++i) {
    std::ifstream in(server_->data_dir() + "/events.jsonl");
    journal.assign(std::istreambuf_iterator<char>(in), {});
    std::this_thread::sleep_for(milliseconds(10));  // polling a condition, bounded
  }
  for (const std::string what :
       {"admin.provider_registered", "admin.ngo_registered", "admin.token_rotated", "admin.token_revoked"}) {
    EXPECT_NE(journal.find("\"type\":\"" + what + "\""), std::string::npos) << what;
  }
  EXPECT_NE(journal.find("\"party_id\":\"" + nid + "\""), std::string::npos);
}

// One provider token scattering items far from where it is (a continent away, or to weigh on every
// browse there) is refused; near its place (within --max-post-distance-m, default 50 km) is fine.
TEST_F(Hostile, AnItemIsPostedNearItsProvider) {
  auto c = client();
  auto [pid, ptoken] = provider(-6.2, 106.8);
  expect_error(
      c.call("POST", "/v1/surplus", ptoken,
             R"({"title":"Roti","category":"bakery","quantity_kg":2,"ttl_seconds":900,"lat":48.85,"lon":2.35})"),
      400, "invalid_request");
  EXPECT_EQ(c.call("POST", "/v1/surplus", ptoken,
                   R"({"title":"Roti","category":"bakery","quantity_kg":2,"ttl_seconds":900,"lat":-6.3,"lon":106.9})")
                .status,
            201);
}

// The Geo-DLQ is read a page at a time (it may hold thousands of items on a bad night).
TEST_F(Hostile, TheDlqIsReadAPageAtATime) {
  auto c = client();
  auto [pid, ptoken] = provider(10.5, 10.5);  // nobody in range: every item is dead-lettered at once
  std::set<std::string> posted;
  for (int i = 0; i < 5; ++i) posted.insert(str(post(ptoken), "id"));
  for (int i = 0; i < 500; ++i) {  // dead-lettering follows the post by moments: wait, bounded
    size_t in_dlq = 0;
    const auto dlq = c.call("GET", "/v1/dlq?limit=1000", admin()).json();
    for (const auto& e : dlq.at("items").as_array()) {
      in_dlq += posted.count(std::string(e.at("id").as_string()));
    }
    if (in_dlq == posted.size()) break;
    std::this_thread::sleep_for(milliseconds(10));  // polling a condition, bounded
  }
  std::set<std::string> seen;
  std::string after;
  int pages = 0;
  for (; pages < 10; ++pages) {
    auto page = c.call("GET", "/v1/dlq?limit=2" + (after.empty() ? "" : "&after=" + after), admin()).json();
    for (const auto& e : page.at("items").as_array()) seen.insert(std::string(e.at("id").as_string()));
    EXPECT_LE(page.at("items").as_array().size(), 2u);
    if (page.at("next").is_null()) break;
    after = std::string(page.at("next").as_string());
  }
  for (const auto& id : posted) EXPECT_TRUE(seen.count(id)) << id;
  EXPECT_GE(pages, 2);
  expect_error(c.call("GET", "/v1/dlq?limit=0", admin()), 400, "invalid_request");
  expect_error(c.call("GET", "/v1/dlq?after=garbage", admin()), 400, "invalid_request");
}

// A server with small limits of its own, so the tests run in well under a second of waiting.
class HostileLimits : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    server_ = new ServerProcess("", {"--request-timeout-ms", "400", "--write-timeout-ms", "400", "--max-connections",
                                     "40", "--rate-limit", "0"});
    server_->start();
  }
  static void TearDownTestSuite() {
    EXPECT_EQ(server_->stop(), 0) << server_->output();
    delete server_;
  }
  HttpClient client() { return HttpClient("127.0.0.1", server_->port()); }
  // Waits (bounded) until the server holds at most `n` connections.
  bool connections_drop_to(HttpClient& c, double n) {
    return wait_for([&] { return metric(c, "http_connections_open") <= n; });
  }
  bool connections_reach(HttpClient& c, double n) {
    return wait_for([&] { return metric(c, "http_connections_open") >= n; });
  }
  template <class F>
  bool wait_for(F condition) {
    for (int i = 0; i < 200; ++i) {
      if (condition()) return true;
      std::this_thread::sleep_for(milliseconds(50));  // polling a condition, bounded
    }
    return false;
  }
  static inline ServerProcess* server_ = nullptr;
};

TEST_F(HostileLimits, ATrickledRequestIsCutOffAtTheRequestDeadline) {
  RawConnection conn(server_->port());
  ASSERT_TRUE(conn.connected());
  // One byte now and then: each arrives well inside any idle timeout, the request never completes.
  const std::string request = "GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ";
  bool closed = false;
  for (size_t i = 0; i < request.size() && !closed; ++i) {
    conn.send_some(request.substr(i, 1));
    closed = conn.closed_within(milliseconds(100));
  }
  if (!closed) closed = conn.closed_within(seconds(10));
  EXPECT_TRUE(closed) << "a request trickled over " << request.size() * 100 << " ms was still being read";
}

TEST_F(HostileLimits, ConnectionsOverTheLimitGet503AndTricklersDoNotStarveOthers) {
  auto c = client();
  std::vector<std::unique_ptr<RawConnection>> slow;
  for (int i = 0; i < 39; ++i) {  // the metrics client holds the 40th
    slow.push_back(std::make_unique<RawConnection>(server_->port()));
    slow.back()->send_some("GET /healthz HTTP/1.1\r\n");
  }
  ASSERT_TRUE(c.request("GET", "/healthz").status == 200);  // its own connection was opened first
  RawConnection extra(server_->port());
  std::string got;
  extra.send_some("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_TRUE(extra.read_until(got, "\r\n\r\n", seconds(10)));
  EXPECT_EQ(got.rfind("HTTP/1.1 503", 0), 0u) << got;
  EXPECT_GE(metric(c, "http_connections_refused_total"), 1);
  // The tricklers are cut off at the request deadline; then there is room again.
  EXPECT_TRUE(connections_drop_to(c, 1));
  HttpClient fresh("127.0.0.1", server_->port());
  EXPECT_EQ(fresh.request("GET", "/healthz").status, 200);
}

TEST_F(HostileLimits, AClientThatNeverReadsIsCutOffAtTheWriteDeadline) {
  RawConnection conn(server_->port(), 4096);
  ASSERT_TRUE(conn.connected());
  std::string pipelined;
  for (int i = 0; i < 3000; ++i) pipelined += "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n";
  conn.send_some(pipelined);
  // Not reading: the server's writes stall on a full socket and must give up at the deadline.
  auto c = client();
  ASSERT_TRUE(connections_reach(c, 2)) << "the silent reader's connection was never accepted";
  EXPECT_TRUE(connections_drop_to(c, 1)) << "a connection that never reads is still held";
  EXPECT_GE(metric(c, "http_timeouts_total"), 1);
  std::string got;
  EXPECT_TRUE(conn.read_until_closed(got, seconds(10)));
  EXPECT_LT(count_of(got, "HTTP/1.1 200"), 3000u);
}

// Out of file descriptors, the accept loop must pause rather than spin on EMFILE.
TEST(HostileFds, AServerOutOfFileDescriptorsDoesNotSpin) {
  ServerProcess server("", {"--threads", "1"});
  server.set_fd_limit(64);
  server.start();
  std::vector<std::unique_ptr<RawConnection>> conns;
  for (int i = 0; i < 120; ++i) conns.push_back(std::make_unique<RawConnection>(server.port()));
  auto cpu_ticks = [&] {
    std::ifstream in("/proc/" + std::to_string(server.pid()) + "/stat");
    std::string s((std::istreambuf_iterator<char>(in)), {});
    std::istringstream fields(s.substr(s.rfind(')') + 2));
    std::string f;
    long utime = 0, stime = 0;
    for (int i = 3; i <= 15 && fields >> f; ++i) {
      if (i == 14) utime = std::stol(f);
      if (i == 15) stime = std::stol(f);
    }
    return utime + stime;
  };
  std::this_thread::sleep_for(milliseconds(300));  // let the backlog fill and the accept loop hit EMFILE
  const long before = cpu_ticks();
  const auto t0 = std::chrono::steady_clock::now();
  std::this_thread::sleep_for(seconds(1));  // measuring CPU use over a second, not synchronising
  const long used = cpu_ticks() - before;
  const double wall_ticks = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count() *
                            static_cast<double>(sysconf(_SC_CLK_TCK));
  EXPECT_LT(used, 0.3 * wall_ticks) << "the server burnt " << used << " of " << wall_ticks << " clock ticks while idle";
  // Room again before the shutdown: under UBSan, the vptr check probes memory through a pipe
  // (sanitizer_common's IsAccessibleMemoryRange), and in a process with no free descriptor that probe
  // fails and a virtual call on an error_category is reported as an invalid vptr.
  rlimit room{1024, 1024};
  ASSERT_EQ(::prlimit(server.pid(), RLIMIT_NOFILE, &room, nullptr), 0);
  conns.clear();
  EXPECT_EQ(server.stop(), 0) << server.output();
}

}  // namespace
}  // namespace pahlawan::testing
