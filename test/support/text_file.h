// A whole text file as a string ("" if it cannot be read): logs and configuration templates of the
// servers the tests start.
#pragma once

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

namespace pahlawan::testing {

inline std::string read_text_file(const std::filesystem::path& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace pahlawan::testing
