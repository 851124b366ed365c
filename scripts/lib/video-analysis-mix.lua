-- wrk mix for the video-analysis API: 80% GET of a seeded record, 20% POST
-- of a new one (unique ids per thread and request). Seeded ids: bench_0 …
-- bench_<SEEDED-1>, created by scripts/bench-http before the run.
local seeded = tonumber(os.getenv("SEEDED") or "1000")
-- With API_KEY set, every request carries it (authentication on).
local api_key = os.getenv("API_KEY")
local get_headers = {}
local post_headers = {["Content-Type"] = "application/json"}
if api_key and api_key ~= "" then
    get_headers["X-API-Key"] = api_key
    post_headers["X-API-Key"] = api_key
end
-- Globals, not locals: thread:set writes globals of each thread's Lua state.
thread_id = 0
counter = 0
local next_thread = 0

function setup(thread)
    thread:set("thread_id", next_thread)
    next_thread = next_thread + 1
end

function init(args)
    math.randomseed(os.time() + thread_id * 7919)
end

function request()
    counter = counter + 1
    if math.random() < 0.8 then
        return wrk.format("GET", "/api/video-analysis/bench_" .. math.random(0, seeded - 1), get_headers)
    end
    local id = string.format("new_%d_%d_%d", thread_id, counter, math.random(0, 1e9))
    return wrk.format("POST", "/api/video-analysis/", post_headers,
        '{"video_id":"' .. id .. '","description":"A sunset over the harbour, boats returning, gulls circling the pier."}')
end

local statuses = {}
function response(status, headers, body)
    statuses[status] = (statuses[status] or 0) + 1
end

function done(summary, latency, requests)
    io.write(string.format("p50 %.2f ms, p90 %.2f ms, p99 %.2f ms, p99.9 %.2f ms, max %.2f ms\n",
        latency:percentile(50) / 1000, latency:percentile(90) / 1000, latency:percentile(99) / 1000,
        latency:percentile(99.9) / 1000, latency.max / 1000))
    io.write(string.format("errors: connect %d, read %d, write %d, timeout %d, non-2xx %d\n",
        summary.errors.connect, summary.errors.read, summary.errors.write, summary.errors.timeout, summary.errors.status))
end
