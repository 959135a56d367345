-- wrk script for scripts/load: each connection sends its share of a prepared request list,
-- once each, on a fixed schedule so that all connections together send RATE requests per second.
-- Environment: LOAD_REQUESTS (the Lua file requests.py wrote), LOAD_RATE, LOAD_CONNECTIONS,
-- LOAD_THREADS.

-- wrk's Lua has no wall clock finer than a second; LuaJIT's FFI reaches clock_gettime.
local ffi = require("ffi")
ffi.cdef [[
   typedef struct { long tv_sec; long tv_nsec; } load_timespec;
   int clock_gettime(int clock, load_timespec *now);
]]
local CLOCK_MONOTONIC = 1
local clock = ffi.new("load_timespec")
local function now_ms()
   ffi.C.clock_gettime(CLOCK_MONOTONIC, clock)
   return tonumber(clock.tv_sec) * 1000 + tonumber(clock.tv_nsec) / 1e6
end

local threads = {}

function setup(thread)
   thread:set("id", #threads)
   table.insert(threads, thread)
end

function init(args)
   requests = dofile(os.getenv("LOAD_REQUESTS"))
   nthreads = tonumber(os.getenv("LOAD_THREADS"))
   sent = 0
   local rate = tonumber(os.getenv("LOAD_RATE"))
   -- Each thread owns every nthreads-th slot of the schedule. Its connections send their
   -- first request at once; every later one waits for its slot, counted from the start, so
   -- the answer times do not add up (a fixed pause after each answer fell short of the rate).
   interval = nthreads * 1000 / rate
   slot = tonumber(os.getenv("LOAD_CONNECTIONS")) / nthreads - 1
   start = now_ms()
end

function delay()
   slot = slot + 1
   return math.max(0, math.floor(start + slot * interval - now_ms()))
end

function request()
   local index = sent * nthreads + id + 1
   sent = sent + 1
   if index > #requests then
      -- Out of requests: stop, answering wrk's call with a read (request 5, a GET) that
      -- changes nothing.
      wrk.thread:stop()
      index = 5
   end
   local r = requests[index]
   return wrk.format(r.method, r.path, r.headers, r.body)
end

-- Every accepted order (its key) and webhook (`queued`) goes to a file per thread, for the
-- zero-lost check; non-2xx answers are printed (at most 20 per thread), so a failed run says why.
local shown = 0
function response(status, headers, body)
   if status >= 300 then
      if shown < 20 then
         shown = shown + 1
         io.write(string.format("answer %d: %s\n", status, string.sub(body or "", 1, 200)))
      end
      return
   end
   local key = string.match(body or "", '"key":"(LOAD%-[^"]+)"')
   local queued = string.find(body or "", '"status":"queued"', 1, true)
   if key or queued then
      accepted = accepted or io.open(os.getenv("LOAD_ACCEPTED") .. "." .. id, "a")
      accepted:write((key or "queued") .. "\n")
      accepted:flush()
   end
end

function done(summary, latency, requests)
   local e = summary.errors
   io.write(string.format("requests %d\nduration_s %.2f\nthroughput_rps %.1f\n",
      summary.requests, summary.duration / 1e6, summary.requests / (summary.duration / 1e6)))
   io.write(string.format("p50_ms %.2f\np99_ms %.2f\nmax_ms %.2f\n",
      latency:percentile(50) / 1000, latency:percentile(99) / 1000, latency.max / 1000))
   io.write(string.format("errors_connect %d\nerrors_read %d\nerrors_write %d\nerrors_timeout %d\nerrors_status %d\n",
      e.connect, e.read, e.write, e.timeout, e.status))
end
