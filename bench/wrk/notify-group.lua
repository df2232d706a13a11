-- POST /api/v1/events to one of the 10-member groups g1, g2, ... in turn
-- (CLOCHE_BENCH_USERS / 10 of them, default 10), with the API key of
-- CLOCHE_BENCH_KEY.
local key = os.getenv("CLOCHE_BENCH_KEY")
local groups = math.max(1, math.floor((tonumber(os.getenv("CLOCHE_BENCH_USERS")) or 100) / 10))
local i = 0

request = function()
  i = i + 1
  local body = string.format(
    '{"key": "message:internal", "title": "Workshop %d moved", "body": "A body.", "group_names": ["g%d"]}',
    i, i % groups + 1)
  return wrk.format("POST", "/api/v1/events", {
    ["Authorization"] = "Bearer " .. key,
    ["Content-Type"] = "application/json",
  }, body)
end
