// DlqCensus: how many items sit in the Geo-DLQ, by region, for the gauge surplus_dlq_items{region}.
//
// The DLQ is kept in the store (with several replicas, one DLQ for all of them), so the census pages
// through it on its own thread, every `interval` and whenever nudged (each scrape nudges it), and the
// scrape reads the last count: a store that is slow or down must never hold /metrics. So a scrape
// shows the DLQ as it was at the previous scrape at the latest. Items whose time ran out are not counted (they are no
// longer rescuable, as GET /v1/dlq shows). A region once seen stays in the census at 0 when it
// empties, so its gauge falls instead of freezing at its last value.
// Thread-safety: count() and by_region() from any thread; start/stop from one.
#pragma once

#include <chrono>
#include <condition_variable>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "common/clock.h"
#include "ports/store.h"

namespace pahlawan {

class DlqCensus {
 public:
  DlqCensus(Store& store, const Clock& clock, std::chrono::milliseconds interval = std::chrono::seconds(15),
            int page = 1000);
  ~DlqCensus();
  void start();
  void stop();
  // One census on the caller's thread; a failed read keeps the previous count.
  Status count();
  // Asks the census thread for a count now (it does not wait for it).
  void nudge();
  // The last census: items by region token, regions seen before and empty now at 0.
  std::vector<std::pair<std::string, size_t>> by_region() const;

 private:
  Store& store_;
  const Clock& clock_;
  const std::chrono::milliseconds interval_;
  const int page_;
  mutable std::mutex mu_;
  std::map<std::string, size_t> counts_;  // GUARDED_BY(mu_)
  std::condition_variable cv_;
  bool stopping_ = false;  // GUARDED_BY(mu_)
  bool nudged_ = false;    // GUARDED_BY(mu_)
  std::thread thread_;
};

}  // namespace pahlawan
