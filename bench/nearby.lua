-- wrk script for the nearby-browsing benchmark: random query points over Jakarta's built-up area
-- (the same box as pahlawan-loadgen nearby), radius 5 km, limit 20, as the NGO whose token is in
-- NGO_TOKEN. Used to check the load generator against an independent tool (bench/nearby_wrk.sh).
local token = os.getenv("NGO_TOKEN")
local headers = {["Authorization"] = "Bearer " .. token}

function setup(thread)
  thread:set("seed", math.random(1, 1000000))
end

function init(args)
  math.randomseed(seed)
end

function request()
  local lat = -6.37 + math.random() * 0.29
  local lon = 106.68 + math.random() * 0.30
  return wrk.format("GET", string.format("/v1/surplus?lat=%.6f&lon=%.6f&radius_m=5000&limit=20", lat, lon), headers)
end

function done(summary, latency, requests)
  local errors = summary.errors.status + summary.errors.connect + summary.errors.read + summary.errors.write
  io.write(string.format("wrk: %d requests, %d errors (non-2xx or socket)\n", summary.requests, errors))
end
