#include "engine/assignment_solver.h"

#include <lemon/list_graph.h>
#include <lemon/network_simplex.h>

namespace pahlawan {

std::vector<std::optional<size_t>> solve_assignment(const std::vector<std::vector<AssignOption>>& options,
                                                    const std::vector<int>& slots) {
  using Graph = lemon::ListDigraph;
  Graph g;
  Graph::ArcMap<int64_t> cap(g), cost(g);
  const Graph::Node source = g.addNode(), sink = g.addNode();
  auto arc = [&](Graph::Node a, Graph::Node b, int64_t c, int64_t w) {
    const Graph::Arc x = g.addArc(a, b);
    cap[x] = c;
    cost[x] = w;
    return x;
  };
  // An assigned item is worth more than any travel saved by leaving one out — also when assigning it
  // moves every other item to its costliest option: more than the largest total cost.
  int64_t worst = 0;
  for (const auto& opts : options) {
    for (const auto& o : opts) worst = std::max(worst, o.cost);
  }
  const int64_t reward = (worst + 1) * (static_cast<int64_t>(options.size()) + 1);
  std::vector<Graph::Node> ngo(slots.size());
  for (size_t n = 0; n < slots.size(); ++n) {
    ngo[n] = g.addNode();
    arc(ngo[n], sink, std::max(0, slots[n]), 0);
  }
  struct Choice {
    Graph::Arc arc;
    size_t item, ngo;
  };
  std::vector<Choice> choices;
  const auto items = static_cast<int64_t>(options.size());
  for (size_t i = 0; i < options.size(); ++i) {
    const Graph::Node node = g.addNode();
    arc(source, node, 1, 0);
    for (const auto& o : options[i]) choices.push_back(Choice{arc(node, ngo[o.ngo], 1, o.cost - reward), i, o.ngo});
  }
  arc(source, sink, items, 0);  // items left unassigned
  lemon::NetworkSimplex<Graph, int64_t, int64_t> solver(g);
  solver.upperMap(cap).costMap(cost).stSupply(source, sink, items);
  std::vector<std::optional<size_t>> out(options.size());
  if (solver.run() != lemon::NetworkSimplex<Graph, int64_t, int64_t>::OPTIMAL) return out;
  for (const Choice& c : choices) {
    if (solver.flow(c.arc) > 0) out[c.item] = c.ngo;
  }
  return out;
}

}  // namespace pahlawan
