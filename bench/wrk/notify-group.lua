-- POST /api/v1/events to one of ten 10-member groups (g1 to g10 in turn),
-- with the API key of CLOCHE_BENCH_KEY.
local key = os.getenv("CLOCHE_BENCH_KEY")
local i = 0

request = function()
  i = i + 1
  local body = string.format(
    '{"key": "message:internal", "title": "Workshop %d moved", "body": "A body.", "group_names": ["g%d"]}',
    i, i % 10 + 1)
  return wrk.format("POST", "/api/v1/events", {
    ["Authorization"] = "Bearer " .. key,
    ["Content-Type"] = "application/json",
  }, body)
end
