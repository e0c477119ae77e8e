#include "adapters/journal/file_event_journal.h"

#include <unistd.h>

#include <fstream>
#include <memory>

#include "app/json_render.h"

namespace pahlawan {
namespace {

// Each journal line starts with {"seq":N, so the last seq is read without a JSON parser.
int64_t seq_of(const std::string& line) {
  constexpr std::string_view kPrefix = "{\"seq\":";
  if (line.rfind(kPrefix, 0) != 0) return -1;
  return std::strtoll(line.c_str() + kPrefix.size(), nullptr, 10);
}

}  // namespace

Result<std::unique_ptr<FileEventJournal>> FileEventJournal::open(const std::string& path) {
  int64_t last_seq = 0;
  size_t good_bytes = 0;
  {
    std::ifstream in(path, std::ios::binary);
    std::string line;
    size_t offset = 0;
    while (std::getline(in, line)) {
      const bool complete = !in.eof();  // the last line lacks its '\n' only if a write was torn
      offset += line.size() + (complete ? 1 : 0);
      if (!complete) break;
      const int64_t seq = seq_of(line);
      if (seq > last_seq) last_seq = seq;
      good_bytes = offset;
    }
  }
  std::FILE* f = std::fopen(path.c_str(), "a+");
  if (!f) return Status(ErrorCode::kUnavailable, "cannot open event journal " + path);
  if (::ftruncate(fileno(f), static_cast<off_t>(good_bytes)) != 0) {
    std::fclose(f);
    return Status(ErrorCode::kUnavailable, "cannot repair event journal " + path);
  }
  return std::unique_ptr<FileEventJournal>(new FileEventJournal(f, last_seq));
}

FileEventJournal::~FileEventJournal() {
  std::fclose(file_);
}

void FileEventJournal::on_event(const Event& event) {
  if (event.seq <= last_seq_) return;
  std::string line = "{\"seq\":" + std::to_string(event.seq) + ",\"event\":" + render_event(event) + "}\n";
  std::fwrite(line.data(), 1, line.size(), file_);
  last_seq_ = event.seq;
}

// Handing lines to the kernel once per batch: a process crash loses nothing flushed, and the relay
// saves its position only after this.
void FileEventJournal::flush() {
  std::fflush(file_);
}

}  // namespace pahlawan
