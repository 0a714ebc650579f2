-- wrk script: POSTs the JSON-RPC bodies in the file named by the first script argument (one per
-- line), in rotation. With one body the request stays static (formatted once by wrk), the
-- cheapest path for the load generator.
local requests = {}
local index = 0

function init(args)
  local bodies = {}
  for line in io.lines(args[1]) do
    if line ~= "" then bodies[#bodies + 1] = line end
  end
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/json"
  if #bodies == 1 then
    wrk.body = bodies[1]
    return
  end
  for i, body in ipairs(bodies) do
    requests[i] = wrk.format("POST", "/", nil, body)
  end
  request = function()
    index = index % #requests + 1
    return requests[index]
  end
end
