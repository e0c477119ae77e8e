#include "sim/sim_cli.h"

#include <charconv>
#include <cstdio>
#include <fstream>
#include <sstream>

#include "common/time_format.h"
#include "sim/simulation.h"

namespace pahlawan::sim {
std::string simulate_usage() {
  return "usage: pahlawan simulate [--seed 1] [--city jakarta|herd|FILE.json] [--match-window 0|500ms|2s]\n"
         "                         [--greedy] [--no-offline] [--json] [--print-city]\n"
         "One evening of a city through the real matching engine, on a simulated clock. --greedy: no\n"
         "waiting line (busy NGOs mean the Geo-DLQ, as before issue 9). --print-city writes the city as\n"
         "JSON, the format --city FILE reads. See docs/matching.md.\n";
}

int simulate_main(const std::vector<std::string>& args) {
  SimOptions o;
  bool json = false, print_city = false;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    auto value = [&]() -> std::optional<std::string> {
      if (i + 1 >= args.size()) return std::nullopt;
      return args[++i];
    };
    if (a == "--json") {
      json = true;
    } else if (a == "--print-city") {
      print_city = true;
    } else if (a == "--greedy") {
      o.waiting_line = false;
    } else if (a == "--no-offline") {
      o.offline = false;
    } else if (a == "--seed") {
      auto v = value();
      if (!v || std::from_chars(v->data(), v->data() + v->size(), o.seed).ec != std::errc()) {
        std::fprintf(stderr, "--seed needs a non-negative integer\n");
        return 2;
      }
    } else if (a == "--match-window") {
      auto v = value();
      auto w = v ? parse_duration(*v) : std::nullopt;
      if (!w || *w > std::chrono::minutes(1)) {
        std::fprintf(stderr, "--match-window needs a duration such as 0, 500ms or 2s (at most 60s)\n");
        return 2;
      }
      o.match_window = *w;
    } else if (a == "--city") {
      auto v = value();
      if (!v) {
        std::fprintf(stderr, "--city needs a name or a file\n");
        return 2;
      }
      auto builtin = builtin_city(*v);
      if (builtin) {
        o.city = *builtin;
        continue;
      }
      std::ifstream in(*v);
      if (!in) {
        std::fprintf(stderr, "%s; and no file %s\n", builtin.status().message().c_str(), v->c_str());
        return 2;
      }
      std::stringstream text;
      text << in.rdbuf();
      auto city = city_from_json(text.str());
      if (!city) {
        std::fprintf(stderr, "%s: %s\n", v->c_str(), city.status().message().c_str());
        return 2;
      }
      o.city = *city;
    } else {
      std::fprintf(stderr, "unknown flag %s\n\n%s", a.c_str(), simulate_usage().c_str());
      return 2;
    }
  }
  if (print_city) {
    std::printf("%s\n", city_to_json(o.city).c_str());
    return 0;
  }
  const SimReport r = run_simulation(o);
  std::printf("%s", json ? (report_json(r, true) + "\n").c_str() : report_text(r).c_str());
  std::fflush(stdout);
  std::fprintf(stderr, "simulated in %.2f s of wall time\n", r.wall_s);
  return 0;
}

}  // namespace pahlawan::sim
