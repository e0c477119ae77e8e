// A raw client of GET /v1/events for the end-to-end tests: it sends the request and reads the stream
// as it comes, with a 20 s bound on every read.
#pragma once

#include <sys/socket.h>

#include <boost/asio.hpp>

#include <string>

namespace pahlawan::testing {

// A raw SSE client: sends the request, then reads until `needle` has arrived (or 20 s pass).
class SseClient {
 public:
  SseClient(int port, const std::string& token, const std::string& last_event_id = "") : socket_(io_) {
    socket_.connect({boost::asio::ip::make_address("127.0.0.1"), static_cast<unsigned short>(port)});
    timeval tv{20, 0};
    setsockopt(socket_.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    std::string req = "GET /v1/events HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + token + "\r\n";
    if (!last_event_id.empty()) req += "Last-Event-ID: " + last_event_id + "\r\n";
    boost::asio::write(socket_, boost::asio::buffer(req + "\r\n"));
  }
  // `from`: where in what was received to look (what came before is not searched).
  bool read_until(const std::string& needle, size_t from = 0) {
    char buf[4096];
    while (received_.find(needle, from) == std::string::npos) {
      boost::system::error_code ec;
      const size_t n = socket_.read_some(boost::asio::buffer(buf), ec);
      if (ec) return false;
      received_.append(buf, n);
    }
    return true;
  }
  const std::string& received() const { return received_; }
  // Bytes the server has sent that were not read yet (without waiting).
  size_t unread() { return socket_.available(); }
  // True once the server ends the stream (reads what arrives meanwhile; up to 20 s).
  bool ended() {
    char buf[4096];
    for (;;) {
      boost::system::error_code ec;
      const size_t n = socket_.read_some(boost::asio::buffer(buf), ec);
      if (ec) return ec == boost::asio::error::eof || ec == boost::asio::error::connection_reset;
      received_.append(buf, n);
    }
  }

 private:
  boost::asio::io_context io_;
  boost::asio::ip::tcp::socket socket_;
  std::string received_;
};

}  // namespace pahlawan::testing
