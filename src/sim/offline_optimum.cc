#include "sim/offline_optimum.h"

#include <lemon/list_graph.h>
#include <lemon/network_simplex.h>

#include <algorithm>
#include <cmath>
#include <unordered_map>

#include "domain/geo.h"

namespace pahlawan::sim {

OfflineBound offline_optimum(const std::vector<OfflineItem>& items, const NgoDirectory& ngos, double radius_m, int k) {
  using Graph = lemon::ListDigraph;
  using Flow = int64_t;
  Graph g;
  Graph::ArcMap<Flow> cap(g);
  Graph::ArcMap<Flow> cost(g);
  const Graph::Node source = g.addNode(), sink = g.addNode();
  std::unordered_map<std::string, Graph::Node> ngo_node;
  struct Choice {
    Graph::Arc arc;
    size_t item;
    double km;
  };
  std::vector<Choice> choices;
  // Rescuing a gram outweighs any travel: each gram saved is worth kGram, and a kilometre costs far
  // less per gram than that.
  constexpr Flow kGram = 1'000'000'000;
  constexpr Flow kUnlimited = Flow{1} << 40;  // grams: far beyond any evening
  Flow total = 0;
  auto arc = [&](Graph::Node a, Graph::Node b, Flow c, Flow w) {
    Graph::Arc x = g.addArc(a, b);
    cap[x] = c;
    cost[x] = w;
    return x;
  };
  for (size_t i = 0; i < items.size(); ++i) {
    const OfflineItem& it = items[i];
    const Flow grams = std::max<Flow>(1, std::llround(it.kg * 1000));
    total += grams;
    const Graph::Node node = g.addNode();
    arc(source, node, grams, 0);
    for (const auto& near : ngos.near(it.lat, it.lon, radius_m, k)) {
      const Ngo& n = *near.ngo;
      if (n.kind == NgoKind::kFoodBank) continue;
      if (!n.categories.empty() &&
          std::find(n.categories.begin(), n.categories.end(), it.category) == n.categories.end())
        continue;
      auto [pos, fresh] = ngo_node.try_emplace(n.id);
      if (fresh) {
        pos->second = g.addNode();
        arc(pos->second, sink, n.capacity_kg ? std::llround(*n.capacity_kg * 1000) : kUnlimited, 0);
      }
      // Per gram: the item's whole trip costs its distance once, shared by its grams.
      const Flow per_gram = std::llround(near.distance_m * 1000.0 / static_cast<double>(grams));
      choices.push_back(Choice{arc(node, pos->second, grams, -kGram + per_gram), i, near.distance_m / 1000});
    }
  }
  arc(source, sink, total, 0);  // food nobody takes
  lemon::NetworkSimplex<Graph, Flow, Flow> solver(g);
  solver.upperMap(cap).costMap(cost).stSupply(source, sink, total);
  OfflineBound out;
  if (solver.run() != lemon::NetworkSimplex<Graph, Flow, Flow>::OPTIMAL) return out;
  for (const Choice& c : choices) {
    const Flow f = solver.flow(c.arc);
    if (f == 0) continue;
    const double grams = std::max(1.0, std::round(items[c.item].kg * 1000));
    out.kg_assigned += static_cast<double>(f) / 1000;
    out.travel_km += c.km * static_cast<double>(f) / grams;
  }
  out.km_per_tonne = out.kg_assigned > 0 ? out.travel_km / (out.kg_assigned / 1000) : 0;
  return out;
}

}  // namespace pahlawan::sim
