-- scale_token.lua - wrk script for bench/scale.sh: POST /api/livekit/token,
-- each request as the next of the members listed in BENCH_JWTS (lines
-- "JWT ROOM", from bench/jwts.py), so the load touches many memberships and
-- rooms instead of one. The requests are formatted once per thread, in
-- init (wrk's Host header is known by then); each thread starts at its own
-- offset.
local requests = {}
local i = 0
local counter = 0

function setup(thread)
  counter = counter + 1
  thread:set("offset", counter * 7919)
end

function init(args)
  for line in io.lines(os.getenv("BENCH_JWTS")) do
    local jwt, room = line:match("^(%S+) (%S+)$")
    requests[#requests + 1] = wrk.format("POST", "/api/livekit/token",
      { ["Host"] = wrk.headers["Host"], ["Content-Type"] = "application/json",
        ["Authorization"] = "Bearer " .. jwt },
      '{"roomId":"' .. room .. '"}')
  end
  i = (offset or 0) % #requests
end

function request()
  i = i % #requests + 1
  return requests[i]
end

function done(summary, latency, requests)
  io.write(string.format("non200 %d\n", summary.errors.status))
end
