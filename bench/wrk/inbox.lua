-- GET /me/notifications (first page of the bell) and /me/counts,
-- alternately, with the user tokens of CLOCHE_BENCH_TOKENS in turn,
-- accepting gzip as browsers (and Go's client) do.
local tokens = {}
for t in string.gmatch(os.getenv("CLOCHE_BENCH_TOKENS") or "", "%S+") do
  tokens[#tokens + 1] = t
end
local i = 0

request = function()
  i = i + 1
  local path = "/api/v1/me/counts"
  if i % 2 == 0 then
    path = "/api/v1/me/notifications?channel=message&limit=20"
  end
  local tok = tokens[math.floor(i / 2) % #tokens + 1]
  return wrk.format("GET", path, {
    ["Authorization"] = "Bearer " .. tok,
    ["Accept-Encoding"] = "gzip, deflate, br",
  })
end
