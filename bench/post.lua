-- wrk script for the herd's posts: each request posts the herd's item as the next of the providers
-- whose tokens are in the file PROVIDER_TOKENS (one per line), round robin. Used to check the load
-- generator's herd figures against an independent tool (bench/herd_wrk.sh).
local tokens = {}
for line in io.lines(os.getenv("PROVIDER_TOKENS")) do
  tokens[#tokens + 1] = line
end
local body = '{"title":"Nasi kotak","category":"prepared_meal","quantity_kg":5,"ttl_seconds":7200}'
local n = 0

function setup(thread)
  thread:set("offset", math.random(0, #tokens - 1))
end

function request()
  n = n + 1
  local token = tokens[(offset + n) % #tokens + 1]
  return wrk.format("POST", "/v1/surplus", {["Authorization"] = "Bearer " .. token,
                                            ["Content-Type"] = "application/json"}, body)
end

function done(summary, latency, requests)
  local errors = summary.errors.status + summary.errors.connect + summary.errors.read + summary.errors.write
  io.write(string.format("wrk: %d requests, %d errors (non-2xx or socket)\n", summary.requests, errors))
end
