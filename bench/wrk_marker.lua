-- wrk_report.lua's summary, plus a count of answers whose body contains a marker string, given
-- after `--` on wrk's command line (aggregated GETs: '"unavailable":' marks a partial answer).
-- A separate script because defining `response` makes wrk buffer every body, which costs.
local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  marker = args[1]
  marked = 0
end

function response(status, headers, body)
  if body and string.find(body, marker, 1, true) then
    marked = marked + 1
  end
end

done = function(summary, latency, requests)
  local total = 0
  for _, thread in ipairs(threads) do
    total = total + thread:get("marked")
  end
  local e = summary.errors
  io.write(string.format(
    'BENCH_JSON {"requests":%d,"duration_us":%d,"connect":%d,"read":%d,"write":%d,' ..
    '"status":%d,"timeout":%d,"p50_us":%d,"p99_us":%d,"marked":%d}\n',
    summary.requests, summary.duration, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(99), total))
end
