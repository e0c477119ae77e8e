#include "app/hot_index_mirror.h"

#include <unordered_set>

#include "domain/geo.h"

namespace pahlawan {
namespace {

// Items written to the shared copy per round trip when rebuilding.
constexpr size_t kRebuildChunk = 1000;

}  // namespace

HotIndexMirror::HotIndexMirror(HotGeoIndex& local, SharedHotIndex& shared, const Clock& clock, Options options)
    : local_(local), shared_(shared), clock_(clock), options_(std::move(options)) {}

HotIndexMirror::~HotIndexMirror() {
  stop();
}

bool HotIndexMirror::owns(const HotItem& item) const {
  return !options_.owns || options_.owns(partition_of_cell(item.surplus.cell));
}

void HotIndexMirror::upsert(std::shared_ptr<const HotItem> item) {
  local_.upsert(item);
  const bool mine = owns(*item);
  std::lock_guard lock(mu_);
  if (!mine) {
    current_.erase(item->surplus.id);
    return;
  }
  current_[item->surplus.id] = item;
  if (behind_) return;  // the rebuild writes current_
  queue_.push_back(HotChange{std::move(item), false});
  if (queue_.size() > options_.max_queue) {
    queue_.clear();
    behind_ = true;
  }
  wake_.notify_one();
}

void HotIndexMirror::remove(const std::string& id) {
  local_.remove(id);
  std::shared_ptr<const HotItem> item;
  {
    std::lock_guard lock(mu_);
    auto it = current_.find(id);
    if (it == current_.end()) return;
    item = std::move(it->second);
    current_.erase(it);
  }
  // A partition being dropped (its lease lost) is no longer ours: its items stay in the copy, for the
  // new owner to keep or remove.
  if (!owns(*item)) return;
  std::lock_guard lock(mu_);
  if (behind_) return;
  queue_.push_back(HotChange{std::move(item), true});
  wake_.notify_one();
}

void HotIndexMirror::request_rebuild() {
  std::lock_guard lock(mu_);
  reconcile_ = true;
  wake_.notify_one();
}

void HotIndexMirror::fail() {
  std::lock_guard lock(mu_);
  behind_ = true;
  unready_ = true;
  queue_.clear();
  ++stats_.failures;
}

Status HotIndexMirror::reconcile(const std::unordered_map<std::string, std::shared_ptr<const HotItem>>& have) {
  auto parts = shared_.partitions();
  if (!parts) return parts.status();
  for (int64_t p : *parts) {
    if (options_.owns && !options_.owns(p)) continue;
    auto ids = shared_.ids_of(p);
    if (!ids) return ids.status();
    std::vector<std::string> stale;
    for (auto& id : *ids) {
      if (!have.count(id)) stale.push_back(std::move(id));
    }
    if (Status s = shared_.remove_ids(p, stale); !s) return s;
  }
  return Status::ok();
}

Status HotIndexMirror::rebuild() {
  std::unordered_map<std::string, std::shared_ptr<const HotItem>> have;
  {
    std::lock_guard lock(mu_);
    if (unready_) {
      // Readers must not trust the copy while this replica's part is missing writes.
      if (Status s = shared_.clear_ready(); !s) return s;
      unready_ = false;
    }
    have = current_;
    queue_.clear();  // what it held is in `have`; changes from now on queue behind the rebuild
    behind_ = false;
  }
  std::vector<HotChange> chunk;
  for (const auto& [id, item] : have) {
    chunk.push_back(HotChange{item, false});
    if (chunk.size() == kRebuildChunk) {
      if (Status s = shared_.apply(chunk); !s) return s;
      chunk.clear();
    }
  }
  if (Status s = shared_.apply(chunk); !s) return s;
  if (Status s = reconcile(have); !s) return s;
  return shared_.set_ready(options_.owner);
}

bool HotIndexMirror::sync_once() {
  const TimePoint now = clock_.now();
  bool behind = false, reconcile_now = false;
  std::vector<HotChange> batch;
  {
    std::lock_guard lock(mu_);
    behind = behind_;
    reconcile_now = reconcile_ || now - last_reconcile_ >= options_.reconcile_every;
    if (!behind) batch.swap(queue_);
  }
  if (behind) {
    // rebuild() holds `behind_` false from its snapshot on, so changes queue behind it; a failure
    // sets it again.
    if (Status s = rebuild(); !s) {
      fail();
      return false;
    }
    std::lock_guard lock(mu_);
    ++stats_.rebuilds;
    reconcile_ = false;
    last_reconcile_ = now;
  } else {
    if (Status s = shared_.apply(batch); !s) {
      fail();
      return false;
    }
    {
      std::lock_guard lock(mu_);
      stats_.written += batch.size();
    }
    if (reconcile_now) {
      std::unordered_map<std::string, std::shared_ptr<const HotItem>> have;
      {
        std::lock_guard lock(mu_);
        have = current_;
        reconcile_ = false;
      }
      if (Status s = reconcile(have); !s) {
        fail();
        return false;
      }
      last_reconcile_ = now;
    }
  }
  if (now - last_check_ >= tick_ || last_check_ == TimePoint{}) {
    last_check_ = now;
    auto mark = shared_.has_mark(options_.owner);
    if (!mark) {
      fail();
      return false;
    }
    if (!*mark) {
      // Redis lost what this replica wrote (restarted empty, flushed): rebuild, readers falling back.
      std::lock_guard lock(mu_);
      behind_ = true;
      unready_ = true;
      queue_.clear();
      return false;
    }
    if (Status s = shared_.publish_cold(options_.owner, options_.cold ? options_.cold() : 0, now); !s) {
      fail();
      return false;
    }
  }
  std::lock_guard lock(mu_);
  return !behind_;
}

void HotIndexMirror::start(Millis tick) {
  tick_ = tick;
  thread_ = std::thread([this] {
    for (;;) {
      {
        std::unique_lock lock(mu_);
        wake_.wait_for(lock, tick_, [this] { return stopping_ || reconcile_ || (!queue_.empty() && !behind_); });
        if (stopping_) return;
      }
      sync_once();
    }
  });
}

void HotIndexMirror::stop() {
  {
    std::lock_guard lock(mu_);
    if (stopping_) return;
    stopping_ = true;
  }
  wake_.notify_one();
  if (thread_.joinable()) {
    thread_.join();
    sync_once();
    (void)shared_.withdraw(options_.owner);
  }
}

HotIndexMirror::Stats HotIndexMirror::stats() const {
  std::lock_guard lock(mu_);
  Stats s = stats_;
  s.queued = queue_.size();
  s.in_step = !behind_;
  return s;
}

}  // namespace pahlawan
