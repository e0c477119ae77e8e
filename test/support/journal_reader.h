// Reading a data directory's event journal (events.jsonl) in end-to-end tests: every line's event,
// in order, and the first place where the sequence skips or repeats a number (empty when it never does).
#pragma once

#include <boost/json.hpp>

#include <cstdint>
#include <fstream>
#include <string>
#include <vector>

namespace pahlawan::testing {

struct JournalRead {
  std::vector<boost::json::value> events;  // the "event" of each line
  std::string gap;                         // e.g. "seq 7 after 5"; empty: contiguous from 1
};

inline JournalRead read_journal(const std::string& data_dir) {
  JournalRead out;
  std::ifstream in(data_dir + "/events.jsonl");
  std::string line;
  int64_t last_seq = 0;
  while (std::getline(in, line)) {
    auto v = boost::json::parse(line);
    const int64_t seq = v.at("seq").as_int64();
    if (seq != last_seq + 1 && out.gap.empty()) {
      out.gap = "seq " + std::to_string(seq) + " after " + std::to_string(last_seq);
    }
    last_seq = seq;
    out.events.push_back(v.at("event"));
  }
  return out;
}

}  // namespace pahlawan::testing
