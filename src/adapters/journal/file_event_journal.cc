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

// The last seq in a journal file and the length of its complete lines.
std::pair<int64_t, size_t> scan(const std::string& path) {
  int64_t last_seq = 0;
  size_t good_bytes = 0;
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
  return {last_seq, good_bytes};
}

}  // namespace

Result<std::unique_ptr<FileEventJournal>> FileEventJournal::open(const std::string& path, JournalOptions options) {
  auto [last_seq, good_bytes] = scan(path);
  if (last_seq == 0) last_seq = scan(path + ".1").first;  // just rotated: the previous file knows
  std::FILE* f = std::fopen(path.c_str(), "a+");
  if (!f) return Status(ErrorCode::kUnavailable, "cannot open event journal " + path);
  if (::ftruncate(fileno(f), static_cast<off_t>(good_bytes)) != 0) {
    std::fclose(f);
    return Status(ErrorCode::kUnavailable, "cannot repair event journal " + path);
  }
  return std::unique_ptr<FileEventJournal>(new FileEventJournal(path, options, f, last_seq, good_bytes));
}

void FileEventJournal::rotate() {
  std::fclose(file_);
  std::remove((path_ + "." + std::to_string(options_.keep)).c_str());
  for (int i = options_.keep - 1; i >= 1; --i) {
    std::rename((path_ + "." + std::to_string(i)).c_str(), (path_ + "." + std::to_string(i + 1)).c_str());
  }
  if (options_.keep >= 1) {
    std::rename(path_.c_str(), (path_ + ".1").c_str());
  } else {
    std::remove(path_.c_str());
  }
  file_ = std::fopen(path_.c_str(), "a+");
  bytes_ = 0;
}

FileEventJournal::~FileEventJournal() {
  if (file_) std::fclose(file_);
}

void FileEventJournal::on_event(const Event& event) {
  if (event.seq <= last_seq_) return;
  std::string line = "{\"seq\":" + std::to_string(event.seq) + ",\"event\":" + render_event(event) + "}\n";
  if (!file_) return;  // a rotation could not open the new file: nothing more is journalled
  std::fwrite(line.data(), 1, line.size(), file_);
  last_seq_ = event.seq;
  bytes_ += line.size();
  if (bytes_ >= options_.max_bytes) {
    std::fflush(file_);
    rotate();
  }
}

// Handing lines to the kernel once per batch: a process crash loses nothing flushed, and the relay
// saves its position only after this.
void FileEventJournal::flush() {
  if (file_) std::fflush(file_);
}

}  // namespace pahlawan
