-- bench/fill.lua: wrk script for the memory check.
-- Requests /m/<prefix>1 .. /m/<prefix>N once each (N distinct cacheable objects), then stops.
-- Usage: wrk -t1 -c32 -d600s -s fill.lua URL -- N PREFIX
-- Use ONE wrk thread (-t1): the counter is per thread.
target = 1000000
prefix = ""
sent = 0
received = 0
bad = 0

function setup(thread)
  threads = threads or {}
  table.insert(threads, thread)
end

function init(args)
  target = tonumber(args[1]) or 1000000
  prefix = args[2] or ""
end

function request()
  sent = sent + 1
  local i = sent
  if i > target then i = ((i - 1) % target) + 1 end -- in flight after N: repeats (hits)
  return wrk.format("GET", "/m/" .. prefix .. i)
end

function response(status, headers, body)
  received = received + 1
  if status ~= 200 then bad = bad + 1 end
  if received >= target then wrk.thread:stop() end
end

function done(summary, latency, requests)
  local r, b = 0, 0
  for _, t in ipairs(threads or {}) do
    r = r + (t:get("received") or 0)
    b = b + (t:get("bad") or 0)
  end
  io.write(string.format("FILL received=%d bad=%d\n", r, b))
end
