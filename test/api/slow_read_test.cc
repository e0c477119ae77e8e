// A slow store read must not hold an I/O thread: with one I/O thread and the event replay's read
// slowed to 2 s by a fault point, other requests are answered while the replay waits. Built only where
// the fault points are compiled in (the debug and sanitizer presets).
#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include "api_fixture.h"
#include "sse_client.h"

namespace pahlawan::testing {
namespace {

TEST(SlowRead, AnEventReplayWaitingOnTheStoreHoldsNoIoThread) {
  ServerProcess server("", {"--threads", "1"});
  server.set_faults("store.read_offers=delay:2000");
  server.start();
  HttpClient c("127.0.0.1", server.port());
  const std::string ntoken = str(
      c.call("POST", "/v1/ngos", server.admin_token(), R"({"name":"Panti","lat":-6.9,"lon":107.61})").json(), "token");

  SseClient stream(server.port(), ntoken, "some-unknown-event-id");
  // The stream is registered before its replay is read: once /metrics counts it, the read has begun.
  // On an I/O thread the read would hold /metrics itself until the stream's headers were sent.
  bool open = false;
  for (int i = 0; i < 200 && !open; ++i) {
    open = c.request("GET", "/metrics").body.find("\nsse_streams_open 1\n") != std::string::npos;
    if (!open) std::this_thread::sleep_for(std::chrono::milliseconds(10));  // a bounded poll, not a sync
  }
  ASSERT_TRUE(open);
  EXPECT_EQ(c.request("GET", "/healthz").status, 200);
  EXPECT_EQ(stream.unread(), 0u) << "the stream was answered before /healthz: the replay ran on the I/O thread";
  ASSERT_TRUE(stream.read_until("\r\n\r\n")) << stream.received();
  EXPECT_NE(stream.received().find("text/event-stream"), std::string::npos) << stream.received();
  EXPECT_EQ(server.stop(), 0);
}

}  // namespace
}  // namespace pahlawan::testing
