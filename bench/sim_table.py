#!/usr/bin/env python3
"""Reads `pahlawan simulate --json` lines on stdin; prints one markdown table per city."""
import json
import sys

rows = [json.loads(line) for line in sys.stdin if line.strip()]
for city in dict.fromkeys(r["city"] for r in rows):
    print(f"\n**{city}**\n")
    print("| mode | seed | kg claimed before expiry | kg picked up | post to claim p50 / p95 | travel km (km per t) "
          "| offers per item | offers per NGO p95 / max | most held at once (cap) | Geo-DLQ items (reasons) "
          "| waited in line (p50 / p95) | wall |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    offline = {}
    for r in (x for x in rows if x["city"] == city):
        posted = r["kg_posted"]
        reasons = ", ".join(f"{k} {v}" for k, v in sorted(r["dlq_reasons"].items())) or "-"
        claim, ngo, waited = r["claim_s"], r["offers_per_ngo"], r["waited_s"]
        print(f"| {r['mode']} | {r['seed']} | {100 * r['kg_claimed'] / posted:.1f} % "
              f"| {100 * r['kg_picked_up'] / posted:.1f} % | {claim['p50']:.0f} / {claim['p95']:.0f} s "
              f"| {r['travel_km_total']:.0f} ({r['km_per_tonne']:.0f}) | {r['offers_per_item']:.2f} "
              f"| {ngo['p95']:.0f} / {ngo['max']:.0f} | {r['max_pending']} ({r['cap']}) "
              f"| {r['dead_lettered']} ({reasons}) | {r['waited']} ({waited['p50']:.0f} / {waited['p95']:.0f} s) "
              f"| {r.get('wall_s', 0):.1f} s |")
        if "offline" in r:
            offline[r["seed"]] = (r["offline"], posted)
    for seed, (o, posted) in offline.items():
        print(f"| offline optimum | {seed} | {100 * o['kg_assigned'] / posted:.1f} % | | "
              f"| {o['travel_km']:.0f} ({o['km_per_tonne']:.0f}) | | | | | | |")
