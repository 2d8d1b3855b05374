-- token.lua - wrk script: POST /api/livekit/token with a session JWT.
-- No response() callback: wrk would then parse every response's headers
-- into Lua tables, a cost the load generator pays on the cores it shares
-- with the server. wrk counts answers outside 2xx/3xx itself.
wrk.method = "POST"
wrk.body = '{"roomId":"general"}'
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer " .. os.getenv("BENCH_JWT")

function done(summary, latency, requests)
  io.write(string.format("non200 %d\n", summary.errors.status))
end
