#include "fake_osrm_server.h"

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <cmath>
#include <future>
#include <set>
#include <sstream>
#include <vector>

namespace pahlawan::testing {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

namespace {

double great_circle_m(double lat1, double lon1, double lat2, double lon2) {
  constexpr double kR = 6371008.8, kRad = M_PI / 180;
  const double dlat = (lat2 - lat1) * kRad, dlon = (lon2 - lon1) * kRad;
  const double a =
      std::pow(std::sin(dlat / 2), 2) + std::cos(lat1 * kRad) * std::cos(lat2 * kRad) * std::pow(std::sin(dlon / 2), 2);
  return 2 * kR * std::asin(std::sqrt(a));
}

// "lon,lat;lon,lat;..." from /table/v1/<profile>/<coords>?...
std::vector<std::pair<double, double>> coordinates(const std::string& target) {
  std::vector<std::pair<double, double>> out;
  const size_t profile = target.find("/table/v1/");
  if (profile == std::string::npos) return out;
  const size_t start = target.find('/', profile + 10);
  const size_t end = target.find('?', start);
  std::stringstream in(target.substr(start + 1, end - start - 1));
  std::string pair;
  while (std::getline(in, pair, ';')) {
    const size_t comma = pair.find(',');
    out.emplace_back(std::stod(pair.substr(comma + 1)), std::stod(pair.substr(0, comma)));  // lat, lon
  }
  return out;
}

}  // namespace

double FakeOsrmServer::seconds_for(double from_lat, double from_lon, double to_lat, double to_lon) {
  return great_circle_m(from_lat, from_lon, to_lat, to_lon) / 10.0;
}

struct Connection;

struct FakeOsrmServer::Impl {
  // First, so it outlives the connections the io_context destroys when it goes.
  std::set<Connection*> waiting;  // io thread only: connections waiting for their next request
  asio::io_context io{1};
  tcp::acceptor acceptor{io};
  std::thread thread;
};

// One accepted connection: reads one request and answers according to the mode at that moment.
struct Connection : std::enable_shared_from_this<Connection> {
  Connection(FakeOsrmServer& s, tcp::socket sock)
      : server(s), waiting(s.impl_->waiting), stream(std::move(sock)), timer(stream.get_executor()) {
    ++server.open_;
    ++server.accepted_;
  }
  ~Connection() {
    waiting.erase(this);
    std::lock_guard lock(server.mu_);
    --server.open_;
    server.idle_cv_.notify_all();
  }

  void start() {
    request = {};
    waiting.insert(this);
    http::async_read(stream, buffer, request, [self = shared_from_this()](beast::error_code ec, size_t) {
      self->waiting.erase(self.get());
      if (ec) return;
      ++self->server.requests_;
      {
        std::lock_guard lock(self->server.mu_);
        self->server.last_target_ = std::string(self->request.target());
      }
      self->respond();
    });
  }

  void respond() {
    using Mode = FakeOsrmServer::Mode;
    const Mode mode = server.mode_.load();
    if (mode == Mode::kSilent) {
      // Hold the connection until the client gives up and closes it.
      return stream.async_read_some(asio::buffer(scratch), [self = shared_from_this()](beast::error_code, size_t) {});
    }
    if (mode == Mode::kSlow) {
      timer.expires_after(server.slow_delay_.load());
      return timer.async_wait([self = shared_from_this()](beast::error_code ec) {
        if (!ec) self->write(http::status::ok, self->table(Mode::kOk, 0));
      });
    }
    switch (mode) {
      case Mode::kHttpError: return write(http::status::internal_server_error, "oops");
      case Mode::kOsrmError: return write(http::status::bad_request, R"({"code":"InvalidQuery","message":"bad"})");
      case Mode::kGarbage: return write(http::status::ok, "<html>not osrm</html>");
      case Mode::kWrongLength: return write(http::status::ok, table(Mode::kOk, 1));
      default: return write(http::status::ok, table(mode, 0));
    }
  }

  // The table for the requested coordinates (source 0 to all others), `drop` entries short.
  std::string table(FakeOsrmServer::Mode mode, size_t drop) {
    const bool last_unreachable = mode == FakeOsrmServer::Mode::kLastUnreachable;
    const bool reversed = mode == FakeOsrmServer::Mode::kFarthestFastest;
    auto pts = coordinates(std::string(request.target()));
    std::string durations = "[[", distances = "[[";
    for (size_t i = 1; i + drop < pts.size(); ++i) {
      if (i > 1) durations += ',', distances += ',';
      if (last_unreachable && i + 1 == pts.size()) {
        durations += "null", distances += "null";
        continue;
      }
      const double m = great_circle_m(pts[0].first, pts[0].second, pts[i].first, pts[i].second);
      durations += std::to_string(reversed ? 1e6 - m / 10.0 : m / 10.0);
      distances += std::to_string(m);
    }
    return R"({"code":"Ok","durations":)" + durations + "]],\"distances\":" + distances + "]]}";
  }

  void write(http::status status, std::string body) {
    auto res = std::make_shared<http::response<http::string_body>>(status, 11);
    res->set(http::field::content_type, "application/json");
    res->body() = std::move(body);
    const bool keep = request.keep_alive() && !server.close_after_answer_.load();
    res->keep_alive(keep);
    // Idle from the client's point of view as soon as the answer is on its way.
    if (keep) waiting.insert(this);
    res->prepare_payload();
    http::async_write(stream, *res, [self = shared_from_this(), res, keep](beast::error_code ec, size_t) {
      if (!ec && keep) return self->start();  // the next request on the same connection
      beast::error_code ignored;
      self->stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
    });
  }

  FakeOsrmServer& server;
  std::set<Connection*>& waiting;
  beast::tcp_stream stream;
  asio::steady_timer timer;
  beast::flat_buffer buffer;
  http::request<http::string_body> request;
  char scratch[256];
};

namespace {
void accept_loop(FakeOsrmServer& server, tcp::acceptor& acceptor) {
  acceptor.async_accept([&server, &acceptor](beast::error_code ec, tcp::socket sock) {
    if (ec) return;
    std::make_shared<Connection>(server, std::move(sock))->start();
    accept_loop(server, acceptor);
  });
}
}  // namespace

FakeOsrmServer::FakeOsrmServer() : impl_(std::make_unique<Impl>()) {
  tcp::endpoint ep(asio::ip::make_address("127.0.0.1"), 0);
  impl_->acceptor.open(ep.protocol());
  impl_->acceptor.set_option(tcp::acceptor::reuse_address(true));
  impl_->acceptor.bind(ep);
  impl_->acceptor.listen(1024);
  port_ = impl_->acceptor.local_endpoint().port();
  accept_loop(*this, impl_->acceptor);
  impl_->thread = std::thread([this] { impl_->io.run(); });
}

FakeOsrmServer::~FakeOsrmServer() {
  impl_->io.stop();
  impl_->thread.join();
  impl_.reset();  // destroys the connections still held, which report to members still alive here
}

void FakeOsrmServer::close_idle_connections() {
  std::promise<void> done;
  asio::post(impl_->io, [this, &done] {
    for (Connection* c : impl_->waiting) {
      beast::error_code ignored;
      c->stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
      c->stream.socket().close(ignored);
    }
    done.set_value();
  });
  done.get_future().wait();
}

std::string FakeOsrmServer::last_target() const {
  std::lock_guard lock(mu_);
  return last_target_;
}

bool FakeOsrmServer::wait_until_idle(std::chrono::milliseconds limit) {
  std::unique_lock lock(mu_);
  return idle_cv_.wait_for(lock, limit, [this] { return open_.load() == 0; });
}

}  // namespace pahlawan::testing
