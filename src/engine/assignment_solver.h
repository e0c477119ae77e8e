// The assignment problem of a batch window: items to NGOs, each item to at most one NGO, each NGO to
// at most its free slots, as many items as possible and, among those, the least total cost (travel).
// Solved exactly as a min-cost flow with LEMON's NetworkSimplex (liblemon-dev) — never by hand.
// Pure: the caller builds the options (eligibility, capacity and slots are its business).
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

namespace pahlawan {

struct AssignOption {
  size_t ngo = 0;    // index into the slots vector
  int64_t cost = 0;  // >= 0, e.g. travel seconds or metres
};

// options[i]: where item i may go. slots[n]: how many items NGO n may take. Returns, per item, the
// NGO it goes to, or nullopt.
std::vector<std::optional<size_t>> solve_assignment(const std::vector<std::vector<AssignOption>>& options,
                                                    const std::vector<int>& slots);

}  // namespace pahlawan
