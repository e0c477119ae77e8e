// Secrets: bearer tokens and their stored form. Tokens are random and shown once; the store keeps
// only hash(token). equal() compares in constant time. Thread-safe.
#pragma once

#include <string>

namespace pahlawan {

class Secrets {
 public:
  virtual ~Secrets() = default;
  virtual std::string new_token(const std::string& prefix) = 0;
  virtual std::string hash(const std::string& token) const = 0;  // hex SHA-256
  virtual bool equal(const std::string& a, const std::string& b) const = 0;
};

}  // namespace pahlawan
