// A local webhook receiver for the end-to-end tests (and, always answering 200, an OTLP collector):
// accepts connections one at a time and records each request (event id, signature, body,
// traceparent, path); the first request gets 500, the rest 200 (or all 200 with
// always_ok). With a certificate (TestCertificate: self-signed for "localhost", made with OpenSSL
// for the test run) it speaks TLS.
#pragma once

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast.hpp>
#include <boost/beast/ssl.hpp>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace pahlawan::testing {

struct Received {
  std::string event_id, signature, body;
  std::string traceparent, path;
};

// A self-signed certificate for "localhost" (its own CA), made with OpenSSL for the test run.
struct TestCertificate {
  std::string cert_pem, key_pem;

  TestCertificate() {
    EVP_PKEY* key = EVP_EC_gen("P-256");
    X509* x = X509_new();
    X509_set_version(x, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
    X509_gmtime_adj(X509_getm_notBefore(x), -60);
    X509_gmtime_adj(X509_getm_notAfter(x), 3600);
    X509_set_pubkey(x, key);
    X509_NAME* name = X509_get_subject_name(x);
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>("localhost"), -1, -1,
                               0);
    X509_set_issuer_name(x, name);
    X509V3_CTX ctx;
    X509V3_set_ctx_nodb(&ctx);
    X509V3_set_ctx(&ctx, x, x, nullptr, nullptr, 0);
    for (auto [nid, value] :
         {std::pair{NID_subject_alt_name, "DNS:localhost"}, std::pair{NID_basic_constraints, "critical,CA:TRUE"}}) {
      X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value);
      X509_add_ext(x, ext, -1);
      X509_EXTENSION_free(ext);
    }
    X509_sign(x, key, EVP_sha256());
    cert_pem = to_pem([&](BIO* b) { PEM_write_bio_X509(b, x); });
    key_pem = to_pem([&](BIO* b) { PEM_write_bio_PrivateKey(b, key, nullptr, nullptr, 0, nullptr, nullptr); });
    X509_free(x);
    EVP_PKEY_free(key);
  }

  template <class Write>
  static std::string to_pem(Write write) {
    BIO* b = BIO_new(BIO_s_mem());
    write(b);
    char* data = nullptr;
    const long n = BIO_get_mem_data(b, &data);
    std::string out(data, static_cast<size_t>(n));
    BIO_free(b);
    return out;
  }
};

// Accepts connections one at a time; the first request gets 500, the rest 200 (or all 200 with
// always_ok). With a certificate it speaks TLS.
class Receiver {
 public:
  explicit Receiver(const TestCertificate* cert = nullptr, bool always_ok = false)
      : acceptor_(io_, {boost::asio::ip::make_address("127.0.0.1"), 0}), always_ok_(always_ok) {
    if (cert) {
      tls_ = std::make_unique<boost::asio::ssl::context>(boost::asio::ssl::context::tls_server);
      tls_->use_certificate_chain(boost::asio::buffer(cert->cert_pem));
      tls_->use_private_key(boost::asio::buffer(cert->key_pem), boost::asio::ssl::context::pem);
    }
    thread_ = std::thread([this] { serve(); });
  }
  ~Receiver() {
    stop_ = true;
    boost::asio::io_context io;
    boost::asio::ip::tcp::socket s(io);
    boost::beast::error_code ec;
    s.connect({boost::asio::ip::make_address("127.0.0.1"), port()}, ec);  // unblock accept
    thread_.join();
  }
  unsigned short port() const { return acceptor_.local_endpoint().port(); }

  std::vector<Received> wait_for(size_t n) {
    std::unique_lock lock(mu_);
    cv_.wait_for(lock, std::chrono::seconds(30), [&] { return got_.size() >= n; });
    return got_;
  }
  // Connections that arrived, whether or not a request came over them.
  int connections() const { return connections_.load(); }
  // Waits until `n` connections arrived (bounded).
  bool wait_for_connections(int n) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, std::chrono::seconds(30), [&] { return connections_.load() >= n; });
  }
  size_t received() {
    std::lock_guard lock(mu_);
    return got_.size();
  }

 private:
  void serve() {
    while (!stop_) {
      boost::asio::ip::tcp::socket socket(io_);
      boost::beast::error_code ec;
      acceptor_.accept(socket, ec);
      if (ec || stop_) return;
      if (!tls_) {
        answer(socket);
      } else {
        boost::beast::ssl_stream<boost::asio::ip::tcp::socket&> stream(socket, *tls_);
        stream.handshake(boost::asio::ssl::stream_base::server, ec);
        if (!ec) answer(stream);
      }
      {
        std::lock_guard lock(mu_);
        ++connections_;
      }
      cv_.notify_all();
    }
  }

  template <class Stream>
  void answer(Stream& stream) {
    boost::beast::error_code ec;
    boost::beast::flat_buffer buffer;
    boost::beast::http::request<boost::beast::http::string_body> req;
    boost::beast::http::read(stream, buffer, req, ec);
    if (ec) return;
    bool first;
    {
      std::lock_guard lock(mu_);
      first = got_.empty();
      got_.push_back(Received{std::string(req["X-Pahlawan-Event-Id"]), std::string(req["X-Pahlawan-Signature"]),
                              req.body(), std::string(req["traceparent"]), std::string(req.target())});
    }
    const bool fail = first && !always_ok_;
    boost::beast::http::response<boost::beast::http::string_body> res{
        fail ? boost::beast::http::status::internal_server_error : boost::beast::http::status::ok, 11};
    res.body() = "{}";
    res.prepare_payload();
    boost::beast::http::write(stream, res, ec);
  }

  boost::asio::io_context io_;
  boost::asio::ip::tcp::acceptor acceptor_;
  const bool always_ok_;
  std::unique_ptr<boost::asio::ssl::context> tls_;
  std::atomic<int> connections_{0};
  std::thread thread_;
  std::atomic<bool> stop_{false};
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<Received> got_;
};

}  // namespace pahlawan::testing
