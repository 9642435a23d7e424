-- wrk script for bench/pages.py: the real login form posted again and again with one
-- CSRF cookie and token (BENCH_LOGIN_COOKIE, BENCH_LOGIN_BODY). A sign-in answers 302;
-- any other status is counted and reported as "not signed in".
wrk.method = "POST"
wrk.body = os.getenv("BENCH_LOGIN_BODY")
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
wrk.headers["Cookie"] = os.getenv("BENCH_LOGIN_COOKIE")

local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  failed = 0
end

function response(status, headers, body)
  if status ~= 302 then
    failed = failed + 1
  end
end

function done(summary, latency, requests)
  local total = 0
  for _, thread in ipairs(threads) do
    total = total + thread:get("failed")
  end
  io.write(string.format("not signed in: %d\n", total))
end
