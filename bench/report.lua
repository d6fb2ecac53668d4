-- wrk script for bench/run.py: optional rotating bearer tokens and bodies, and a JSON
-- summary on the last line of output (latencies in microseconds).
--   BENCH_METHOD, BENCH_HEADER_<n>="Name: value", BENCH_TOKENS=file with one token a line,
--   BENCH_PATHS=file with one path a line, BENCH_BODIES=file with one body a line.
local method = os.getenv("BENCH_METHOD") or "GET"
local headers = {}
for i = 1, 9 do
  local h = os.getenv("BENCH_HEADER_" .. i)
  if h then
    local name, value = h:match("^([^:]+):%s*(.*)$")
    headers[name] = value
  end
end
local function read_lines(name)
  local file = os.getenv(name)
  if not file then return nil end
  local lines = {}
  for line in io.lines(file) do table.insert(lines, line) end
  return lines
end
local tokens = read_lines("BENCH_TOKENS")
local paths = read_lines("BENCH_PATHS")
local bodies = read_lines("BENCH_BODIES")
local counter = 0

request = function()
  counter = counter + 1
  local h = {}
  for k, v in pairs(headers) do h[k] = v end
  local path = wrk.path
  local body = nil
  if tokens then h["Authorization"] = "Bearer " .. tokens[math.random(#tokens)] end
  if paths then path = paths[math.random(#paths)] end
  if bodies then
    body = bodies[math.random(#bodies)]
    h["Content-Type"] = "application/json"
  end
  return wrk.format(method, path, h, body)
end

done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    '{"requests": %d, "duration_us": %d, "p50_us": %d, "p90_us": %d, "p99_us": %d, ' ..
    '"max_us": %d, "errors_connect": %d, "errors_read": %d, "errors_write": %d, ' ..
    '"errors_status": %d, "errors_timeout": %d}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(90),
    latency:percentile(99), latency.max, e.connect, e.read, e.write, e.status, e.timeout))
end
