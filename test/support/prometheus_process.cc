#include "prometheus_process.h"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>

#include <boost/url/encode.hpp>
#include <boost/url/rfc/unreserved_chars.hpp>

#include "http_client.h"
#include "polling.h"
#include "text_file.h"

#include <gtest/gtest.h>

namespace pahlawan::testing {

PrometheusProcess::PrometheusProcess(const std::vector<int>& target_ports) : port_(free_loopback_port()) {
  dir_ = std::filesystem::temp_directory_path() / ("pp-prometheus-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir_ / "data");
  std::string targets;
  for (int p : target_ports) targets += (targets.empty() ? "'127.0.0.1:" : ", '127.0.0.1:") + std::to_string(p) + "'";
  std::ofstream(dir_ / "prometheus.yml") << "global:\n"
                                            "  scrape_interval: 1s\n"
                                            "  evaluation_interval: 1s\n"
                                            "rule_files:\n"
                                            "  - '" PAHLAWAN_SOURCE_DIR
                                            "/deploy/prometheus/rules.yml'\n"
                                            "scrape_configs:\n"
                                            "  - job_name: pahlawan\n"
                                            "    static_configs:\n"
                                            "      - targets: ["
                                         << targets << "]\n";
  pid_ = ::fork();
  if (pid_ == 0) {
    const std::string config = "--config.file=" + (dir_ / "prometheus.yml").string();
    const std::string storage = "--storage.tsdb.path=" + (dir_ / "data").string();
    const std::string listen = "--web.listen-address=127.0.0.1:" + std::to_string(port_);
    const std::string log = (dir_ / "prometheus.log").string();
    if (FILE* f = std::freopen(log.c_str(), "w", stderr)) (void)f;
    ::execlp("prometheus", "prometheus", config.c_str(), storage.c_str(), listen.c_str(), nullptr);
    ::_exit(127);
  }
  EXPECT_TRUE(eventually([&] {
    try {
      HttpClient c("127.0.0.1", port_);
      return c.request("GET", "/-/ready").status == 200;
    } catch (const std::exception&) {
      return false;
    }
  })) << "prometheus did not start: "
      << log();
}

PrometheusProcess::~PrometheusProcess() {
  ::kill(pid_, SIGTERM);
  ::waitpid(pid_, nullptr, 0);
  std::filesystem::remove_all(dir_);
}

boost::json::array PrometheusProcess::query(const std::string& promql) const {
  try {
    HttpClient c("127.0.0.1", port_);
    const auto r =
        c.request("GET", "/api/v1/query?query=" + boost::urls::encode(promql, boost::urls::unreserved_chars));
    if (r.status != 200) return {};
    return r.json().at("data").at("result").as_array();
  } catch (const std::exception&) {
    return {};
  }
}

std::string PrometheusProcess::log() const {
  return read_text_file(dir_ / "prometheus.log");
}

}  // namespace pahlawan::testing
