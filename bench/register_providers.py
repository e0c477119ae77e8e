#!/usr/bin/env python3
"""Registers N providers spread over Jakarta (as the herd's) and prints their tokens, one per line:
the PROVIDER_TOKENS file bench/post.lua reads. Registration is set-up, not part of what is timed.
    python3 bench/register_providers.py PORT ADMIN_TOKEN N > tokens
"""
import http.client
import json
import random
import sys

port, admin, n = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
conn = http.client.HTTPConnection("127.0.0.1", port)
rng = random.Random(42)
for i in range(n):
    body = json.dumps({"name": f"wrk {i}", "lat": rng.uniform(-6.37, -6.08), "lon": rng.uniform(106.68, 106.98)})
    conn.request("POST", "/v1/providers", body, {"Authorization": "Bearer " + admin})
    print(json.loads(conn.getresponse().read())["token"])
