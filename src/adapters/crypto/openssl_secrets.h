// OpenSslSecrets: tokens from the OS CSPRNG (RAND_bytes), SHA-256 hashes, CRYPTO_memcmp comparison.
#pragma once

#include "ports/secrets.h"

namespace pahlawan {

class OpenSslSecrets final : public Secrets {
 public:
  std::string new_token(const std::string& prefix) override;
  std::string hash(const std::string& token) const override;
  bool equal(const std::string& a, const std::string& b) const override;
};

// Hex SHA-256 of arbitrary bytes (idempotency body fingerprints use it too).
std::string sha256_hex(const std::string& data);

}  // namespace pahlawan
