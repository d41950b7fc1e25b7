-- wrk script for `make bench`: sends the request paths of a list file.
--
--   wrk ... -s bench/urls.lua http://127.0.0.1:PORT -- list=FILE [mode=random|walk] [seed=N]
--                                                     [names=K] [limit=N] [count=1]
--
-- list   one request path per line, already with the server's prefix, written by bench/run, e.g.
--        /iiif/3/pyramid-{n}.tif/0,0,256,256/256,/0/default.jpg
--        "{n}" stands for the number of one of the K names the image is served under (1..K);
--        a path without it is sent as it is.
-- mode   random: each request takes a random line and a random name (fixed seed: two runs with
--        the same seed send the same sequence);
--        walk: request j (counting from 0) takes line j mod L + 1 and name (j div L) mod K + 1,
--        so the first L*K requests are each line under each name exactly once (the list is
--        shuffled, so this is a random order too); then it starts again.
-- limit  walk only: go round the first `limit` requests of the walk and no further (the warm run
--        uses it to repeat exactly what the cold run asked for). 0 = no limit.
-- count  1: count every status outside 200-299 in response(), and every 2xx whose body is
--        neither a JPEG nor JSON; 0: leave response() undefined, so
--        wrk does not hand headers and bodies to Lua, and report wrk's errors.status (codes above
--        399) instead. bench/run passes count=1.
--
-- wrk runs one Lua state per thread; bench/run uses one thread, so a walk is one sequence.
-- done() prints one line that bench/run parses:
--   BENCHRESULT requests=N duration_us=N rps=X p50_us=N p90_us=N p99_us=N max_us=N non2xx=N
--               codes=CODE:N,CODE:N|- err_connect=N err_read=N err_write=N err_timeout=N bytes=N

local threads = {}

function setup(thread)
    thread:set("id", #threads)
    table.insert(threads, thread)
end

local pre, post = {}, {} -- each line split around "{n}" (post is nil when there is none)
local L, K = 0, 1
local mode, limit = "random", 0
local j = 0
local memo, memo_on = {}, false -- formatted requests, when there are not too many different ones
counting = false
non2xx = 0
codes = {} -- status code -> count, for the non-2xx ones

function init(args)
    local opt = {}
    for _, a in ipairs(args) do
        local k, v = a:match("^([%w_]+)=(.*)$")
        assert(k, "bench/urls.lua: arguments are key=value, got " .. a)
        opt[k] = v
    end
    assert(opt.list, "bench/urls.lua: list=FILE missing")
    mode = opt.mode or "random"
    K = tonumber(opt.names or "1")
    limit = tonumber(opt.limit or "0")
    counting = opt.count == "1"
    if not counting then
        response = nil -- wrk then skips handing headers and bodies to Lua
    end
    local f = assert(io.open(opt.list, "r"), "cannot open " .. opt.list)
    for line in f:lines() do
        if #line > 0 then
            L = L + 1
            local a, b = line:find("{n}", 1, true)
            if a then
                pre[L], post[L] = line:sub(1, a - 1), line:sub(b + 1)
            else
                pre[L] = line
            end
        end
    end
    f:close()
    assert(L > 0, "empty URL list " .. opt.list)
    memo_on = limit > 0 or L * K <= 300000
    math.randomseed(tonumber(opt.seed or "1") * 1000 + (id or 0))
    j = (id or 0) * 7919 -- threads beyond the first start their walk elsewhere
end

local function path(i, name)
    if post[i] then
        return pre[i] .. name .. post[i]
    end
    return pre[i]
end

function request()
    local i, name
    if mode == "walk" then
        local n = j
        if limit > 0 then
            n = n % limit
        end
        i = n % L + 1
        name = math.floor(n / L) % K + 1
        j = j + 1
    else
        i = math.random(L)
        name = math.random(K)
    end
    if not memo_on then
        return wrk.format("GET", path(i, name))
    end
    local key = (i - 1) * K + name
    local r = memo[key]
    if not r then
        r = wrk.format("GET", path(i, name))
        memo[key] = r
    end
    return r
end

-- A 2xx whose body is neither a JPEG nor JSON is an error too: iipsrv behind lighttpd reports
-- a failed decode with status 200 and a text body ("Status: 404 Not Found" and the decoder's
-- error); counted as "200-not-an-image".
local function is_image_or_json(body)
    if not body or #body < 2 then
        return false
    end
    local a, b = body:byte(1, 2)
    return (a == 0xff and b == 0xd8) or a == 0x7b
end

function response(status, headers, body)
    if status < 200 or status > 299 then
        non2xx = non2xx + 1
        codes[status] = (codes[status] or 0) + 1
    elseif not is_image_or_json(body) then
        non2xx = non2xx + 1
        codes["200-not-an-image"] = (codes["200-not-an-image"] or 0) + 1
    end
end

function done(summary, latency, requests)
    local e = summary.errors
    local bad, all = 0, {}
    for _, t in ipairs(threads) do
        bad = bad + (t:get("non2xx") or 0)
        for code, n in pairs(t:get("codes") or {}) do
            all[code] = (all[code] or 0) + n
        end
    end
    local list = {}
    for code, n in pairs(all) do
        table.insert(list, code .. ":" .. n)
    end
    table.sort(list)
    if not (threads[1] and threads[1]:get("counting")) then
        bad = e.status
    end
    local secs = summary.duration / 1e6
    io.write(string.format(
        "BENCHRESULT requests=%d duration_us=%d rps=%.1f p50_us=%d p90_us=%d p99_us=%d max_us=%d " ..
        "non2xx=%d codes=%s err_connect=%d err_read=%d err_write=%d err_timeout=%d bytes=%d\n",
        summary.requests, summary.duration, summary.requests / secs,
        latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max,
        bad, #list > 0 and table.concat(list, ",") or "-", e.connect, e.read, e.write, e.timeout,
        summary.bytes))
end
