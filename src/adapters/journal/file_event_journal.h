// FileEventJournal: an append-only JSON-lines export of every committed event (events.jsonl in the
// data directory), for audit and for shipping to other systems. Idempotent: at open it reads the last
// complete line to learn the last seq written (dropping a torn final line left by a crash) and skips
// any replayed event at or below it. Called on the relay thread.
//
// Rotation: once the file passes `max_bytes` it becomes events.jsonl.1 (older ones shift to .2 …
// up to `keep`, the oldest is deleted) and a new file starts, so the journal on disk is bounded by
// about (keep + 1) × max_bytes. A new, empty file learns the last seq from events.jsonl.1.
#pragma once

#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>

#include "common/status.h"
#include "ports/event_bus.h"

namespace pahlawan {

struct JournalOptions {
  uint64_t max_bytes = 256ull << 20;
  int keep = 4;  // rotated files kept beside the current one
};

class FileEventJournal final : public EventSubscriber {
 public:
  static Result<std::unique_ptr<FileEventJournal>> open(const std::string& path, JournalOptions options = {});
  ~FileEventJournal() override;
  void on_event(const Event& event) override;
  void flush() override;
  int64_t last_seq() const { return last_seq_; }

 private:
  FileEventJournal(std::string path, JournalOptions options, std::FILE* f, int64_t last_seq, uint64_t bytes)
      : path_(std::move(path)), options_(options), file_(f), last_seq_(last_seq), bytes_(bytes) {}
  void rotate();
  const std::string path_;
  const JournalOptions options_;
  std::FILE* file_;
  int64_t last_seq_;
  uint64_t bytes_;
};

}  // namespace pahlawan
