-- wrk: one PagerDuty Events v2 trigger per request to Triad's POST /v2/enqueue.
--
-- Environment:
--   ROUTING_KEY  the integration key (required)
--   KEYS         distinct dedup keys to rotate over (default 1000); 0 = a fresh dedup key
--                on every request (every event opens an alert and an incident)
--   RUN          a prefix that makes fresh dedup keys unique to this run (default: time)
--
-- Prints one machine-readable line at the end (see done()).

local routing_key = os.getenv("ROUTING_KEY") or error("ROUTING_KEY is not set")
local distinct = tonumber(os.getenv("KEYS") or "1000")
local run = os.getenv("RUN") or tostring(os.time())
local severities = { "critical", "error", "warning", "critical" }

local next_id = 0
function setup(thread)
  thread:set("id", next_id)
  next_id = next_id + 1
end

-- The same alert as bench/wrk/am_alert.lua sends for index i.
local function body(i, dedup)
  local host = string.format("host-%d:9100", i % 1000)
  local name = string.format("BenchAlert%d", i % 20)
  return string.format(
    '{"routing_key":"%s","event_action":"trigger","dedup_key":"%s",'
      .. '"payload":{"summary":"%s on %s","source":"%s","severity":"critical",'
      .. '"custom_details":{"job":"node","instance":"%s"}}}',
    routing_key, dedup, name, host, host, host)
end

local requests = {}
local n = 0
function init(args)
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/json"
  if distinct > 0 then
    for i = 0, distinct - 1 do
      requests[i + 1] = wrk.format(nil, "/v2/enqueue", nil, body(i, string.format("%s/%d", "bench", i)))
    end
    -- Threads start at different places in the rotation.
    n = (id * 7919) % distinct
  end
end

function request()
  n = n + 1
  if distinct > 0 then
    return requests[(n % distinct) + 1]
  end
  return wrk.format(nil, "/v2/enqueue", nil, body(n, string.format("%s-%d-%d", run, id, n)))
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "WRK requests=%d duration_us=%d non2xx=%d connect=%d read=%d write=%d timeout=%d "
      .. "p50_us=%d p90_us=%d p99_us=%d max_us=%d\n",
    summary.requests, summary.duration, e.status, e.connect, e.read, e.write, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max))
end
