// HttpClient: a small blocking HTTP/1.1 client over one keep-alive connection, for tests and the
// benchmarks' set-up. Not thread-safe: one client per thread.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include <boost/json/value.hpp>

namespace pahlawan::testing {

struct HttpResult {
  int status = 0;
  std::string body;
  std::map<std::string, std::string> headers;  // lower-case names
  boost::json::value json() const;             // null when the body is not JSON
};

class HttpClient {
 public:
  HttpClient(std::string host, int port);
  ~HttpClient();
  HttpResult request(const std::string& method, const std::string& target, const std::string& body = "",
                     const std::vector<std::pair<std::string, std::string>>& headers = {});
  // Convenience with a bearer token.
  HttpResult call(const std::string& method, const std::string& target, const std::string& token,
                  const std::string& body = "", std::vector<std::pair<std::string, std::string>> headers = {});

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace pahlawan::testing
