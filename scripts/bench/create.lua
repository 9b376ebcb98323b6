-- POST /auth/api-keys with a unique name per request, as the admin in APIKEYD_BENCH_KEY.
local counter = 0
local thread_id = 0
local admin = os.getenv("APIKEYD_BENCH_KEY")
function setup(thread)
  thread:set("thread_id", thread_id)
  thread_id = thread_id + 1
end
request = function()
  counter = counter + 1
  local body = string.format('{"apiKeyName":"bench-%d-%d-%d","userId":"admin","description":"benchmark"}', os.time(), thread_id, counter)
  return wrk.format("POST", "/auth/api-keys", {["Content-Type"] = "application/json", ["Authorization"] = "Bearer " .. admin}, body)
end
