// PrometheusProcess: Debian's Prometheus server for one test, scraping the given targets every
// second (job "pahlawan") with the repository's rules (deploy/prometheus/rules.yml), its storage in
// a temp directory, on a free loopback port. query() asks its HTTP API, as Grafana or an operator
// would.
#pragma once

#include <sys/types.h>

#include <filesystem>
#include <string>
#include <vector>

#include <boost/json.hpp>

namespace pahlawan::testing {

class PrometheusProcess {
 public:
  explicit PrometheusProcess(const std::vector<int>& target_ports);  // returns once it is ready
  ~PrometheusProcess();
  PrometheusProcess(const PrometheusProcess&) = delete;
  PrometheusProcess& operator=(const PrometheusProcess&) = delete;

  // An instant query's `data.result` array (empty if the query failed).
  boost::json::array query(const std::string& promql) const;
  std::string log() const;

 private:
  int port_;
  std::filesystem::path dir_;
  pid_t pid_ = -1;
};

}  // namespace pahlawan::testing
