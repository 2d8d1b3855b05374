-- token.lua - wrk script: POST /api/livekit/token with a session JWT.
wrk.method = "POST"
wrk.body = '{"roomId":"general"}'
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer " .. os.getenv("BENCH_JWT")

local bad = 0
function response(status, headers, body)
  if status ~= 200 then bad = bad + 1 end
end

function done(summary, latency, requests)
  io.write(string.format("non200 %d\n", summary.errors.status))
end
