-- POST /api/v1/events to one user (1 to CLOCHE_BENCH_USERS in turn,
-- default 100), with the API key of CLOCHE_BENCH_KEY.
local key = os.getenv("CLOCHE_BENCH_KEY")
local users = tonumber(os.getenv("CLOCHE_BENCH_USERS")) or 100
local i = 0

request = function()
  i = i + 1
  local body = string.format(
    '{"key": "message:internal", "title": "Invoice %d paid", "body": "A body.", "user_ids": ["%d"]}',
    i, i % users + 1)
  return wrk.format("POST", "/api/v1/events", {
    ["Authorization"] = "Bearer " .. key,
    ["Content-Type"] = "application/json",
  }, body)
end
