// `pahlawan simulate`: the command line of the city simulator.
#pragma once

#include <string>
#include <vector>

namespace pahlawan::sim {

// args: the words after "simulate". Prints the report (or the city) to stdout; returns the exit code.
int simulate_main(const std::vector<std::string>& args);
std::string simulate_usage();

}  // namespace pahlawan::sim
