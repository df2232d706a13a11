-- GET requests from CLOCHE_BENCH_REQUESTS, one "TOKEN PATH" a line, in
-- turn, each with its user token, accepting gzip as browsers (and Go's
-- client) do.
local reqs = {}
local i = 0

init = function(args)
  -- Formatted here, once wrk has set the Host header.
  for line in string.gmatch(os.getenv("CLOCHE_BENCH_REQUESTS") or "", "[^\n]+") do
    local tok, path = string.match(line, "^(%S+)%s+(%S+)$")
    if tok then
      reqs[#reqs + 1] = wrk.format("GET", path, {
        ["Authorization"] = "Bearer " .. tok,
        ["Accept-Encoding"] = "gzip, deflate, br",
      })
    end
  end
end

request = function()
  i = i + 1
  return reqs[(i - 1) % #reqs + 1]
end

