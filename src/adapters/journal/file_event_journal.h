// FileEventJournal: an append-only JSON-lines export of every committed event (events.jsonl in the
// data directory), for audit and for shipping to other systems. Idempotent: at open it reads the last
// complete line to learn the last seq written (dropping a torn final line left by a crash) and skips
// any replayed event at or below it. Called on the relay thread.
#pragma once

#include <cstdio>
#include <memory>
#include <string>

#include "common/status.h"
#include "ports/event_bus.h"

namespace pahlawan {

class FileEventJournal final : public EventSubscriber {
 public:
  static Result<std::unique_ptr<FileEventJournal>> open(const std::string& path);
  ~FileEventJournal() override;
  void on_event(const Event& event) override;
  void flush() override;
  int64_t last_seq() const { return last_seq_; }

 private:
  FileEventJournal(std::FILE* f, int64_t last_seq) : file_(f), last_seq_(last_seq) {}
  std::FILE* file_;
  int64_t last_seq_;
};

}  // namespace pahlawan
