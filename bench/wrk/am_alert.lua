-- wrk: one alert per request to Alertmanager's POST /api/v2/alerts (a one-alert array).
--
-- Environment:
--   KEYS  distinct label sets to rotate over (default 1000); 0 = fresh labels on every
--         request (every request opens a new alert)
--   RUN   a prefix that makes fresh labels unique to this run (default: time)
--
-- Prints one machine-readable line at the end (see done()).

local distinct = tonumber(os.getenv("KEYS") or "1000")
local run = os.getenv("RUN") or tostring(os.time())

local next_id = 0
function setup(thread)
  thread:set("id", next_id)
  next_id = next_id + 1
end

-- The same alert as bench/wrk/pd_event.lua sends for index i; `dedup` goes in a label
-- only for fresh alerts (a rotating alert is identified by its labels, as in Prometheus).
local function body(i, fresh)
  local host = string.format("host-%d:9100", i % 1000)
  local name = string.format("BenchAlert%d", i % 20)
  local extra = ""
  if fresh then
    extra = string.format(',"event":"%s"', fresh)
  end
  return string.format(
    '[{"labels":{"alertname":"%s","instance":"%s","job":"node","severity":"critical"%s},'
      .. '"annotations":{"summary":"%s on %s"},"generatorURL":"http://prometheus.example/graph"}]',
    name, host, extra, name, host)
end

local requests = {}
local n = 0
function init(args)
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/json"
  if distinct > 0 then
    for i = 0, distinct - 1 do
      requests[i + 1] = wrk.format(nil, "/api/v2/alerts", nil, body(i, nil))
    end
    n = (id * 7919) % distinct
  end
end

function request()
  n = n + 1
  if distinct > 0 then
    return requests[(n % distinct) + 1]
  end
  return wrk.format(nil, "/api/v2/alerts", nil, body(n, string.format("%s-%d-%d", run, id, n)))
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "WRK requests=%d duration_us=%d non2xx=%d connect=%d read=%d write=%d timeout=%d "
      .. "p50_us=%d p90_us=%d p99_us=%d max_us=%d\n",
    summary.requests, summary.duration, e.status, e.connect, e.read, e.write, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max))
end
