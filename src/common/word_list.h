// Comma-joined lists of words, as the stores keep an NGO's categories and the NGOs an item was
// offered to: neither a category nor an id ever contains a comma.
#pragma once

#include <string>
#include <vector>

namespace pahlawan {

std::string join_list(const std::vector<std::string>& items);
std::vector<std::string> split_list(const std::string& s);

}  // namespace pahlawan
