-- POST /auth/verify with the key in APIKEYD_BENCH_KEY.
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"apiKey":"' .. os.getenv("APIKEYD_BENCH_KEY") .. '"}'
