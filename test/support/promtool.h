// Prometheus's own linter (`promtool check metrics`, Debian's prometheus package) over an exposition:
// what a real scraper would reject or warn about.
#pragma once

#include <string>

namespace pahlawan::testing {

struct PromtoolVerdict {
  int exit_code = -1;  // 0 valid; 1 does not parse; 3 lint problems (promtool 2.42); 127 not run
  std::string output;  // what promtool printed: its problems, one a line
};

PromtoolVerdict promtool_check_metrics(const std::string& exposition);

}  // namespace pahlawan::testing
