#!/usr/bin/env bash
# Checks the Grafana dashboard: it is JSON, and every panel's PromQL parses (each expression goes
# into a temporary rules file that `promtool check rules` reads) and names only metrics this
# server exports or the recording rules of deploy/prometheus/rules.yml. Run by ctest (label ops).
set -euo pipefail
cd "$(dirname "$0")"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
python3 - "$tmp/rules.yml" <<'PY'
import json, re, sys
dash = json.load(open("pahlawan.json"))
exprs = [t["expr"] for p in dash["panels"] for t in p["targets"]]
assert exprs, "no panel has a query"
known = set(re.findall(r"^\| `([a-z_:{}, `]+)", open("../../docs/operations.md").read(), re.M))
names = set()
for cell in known:
    names.update(n.split("{")[0] for n in re.findall(r"[a-z_:]+(?:\{[a-z_]+\})?", cell))
rules = open("../prometheus/rules.yml").read()
names.update(re.findall(r"record: ([a-z0-9_:]+)", rules))
unknown = set()
for e in exprs:
    bare = re.sub(r'"[^"]*"', "", e)  # label values
    for token in re.findall(r"[a-z][a-z0-9_:]*(?![a-z0-9_:(])", bare):
        if "_" not in token and ":" not in token:
            continue  # a label name (le, code, region, instance, relay, type)
        metric = token[: -len("_bucket")] if token.endswith("_bucket") else token
        if metric not in names:
            unknown.add(metric)
if unknown:
    sys.exit(f"metrics not in docs/operations.md or the recording rules: {sorted(unknown)}")
with open(sys.argv[1], "w") as f:
    f.write("groups:\n  - name: dashboard\n    rules:\n")
    for i, e in enumerate(exprs):
        f.write(f"      - record: dashboard:panel_{i}\n        expr: {json.dumps(e)}\n")
print(f"{len(dash['panels'])} panels, {len(exprs)} queries")
PY
promtool check rules "$tmp/rules.yml"
