-- wrk script of bench_wrk.py: signed WeChat text pushes for USERS users, each alternating two messages.
--   wrk -t4 -c16 -d20s -s tests/bench/turns.lua http://127.0.0.1:PORT -- TOKEN PREFIX USERS BASE FIRST SECOND
-- Every push has its own signed query (timestamp, nonce, SHA-1 signature as WeChat makes it) and its own
-- MsgId (BASE + thread and count: a new BASE each run, so nothing is taken for WeChat's retry). Thread k
-- of T plays the users u with u % T == k, in turn. A reply is counted as an answer when it is a 200 with
-- a ✓ or an item/question (【); "echoed" when it repeats the message (the echo); "busy" when it asks to wait (请稍候, 繁忙); "other" otherwise.
-- done() prints one line: BENCH {json}, with the slowest reply (max_ms) and the replies slower than 4.5 s
-- (over_budget: WeChat gives up at 5 s).

local bit = require("bit")
local band, bor, bxor, bnot, rol, lshift, tobit, tohex =
  bit.band, bit.bor, bit.bxor, bit.bnot, bit.rol, bit.lshift, bit.tobit, bit.tohex

local function sha1(message)
  local h0, h1, h2, h3, h4 =
    tobit(0x67452301), tobit(0xEFCDAB89), tobit(0x98BADCFE), tobit(0x10325476), tobit(0xC3D2E1F0)
  local length = #message
  local bits = length * 8
  message = message .. "\128" .. string.rep("\0", (55 - length) % 64) .. "\0\0\0\0"
    .. string.char(band(bit.rshift(bits, 24), 255), band(bit.rshift(bits, 16), 255),
                   band(bit.rshift(bits, 8), 255), band(bits, 255))
  local w = {}
  for chunk = 1, #message, 64 do
    for i = 0, 15 do
      local a, b, c, d = message:byte(chunk + i * 4, chunk + i * 4 + 3)
      w[i] = bor(lshift(a, 24), lshift(b, 16), lshift(c, 8), d)
    end
    for i = 16, 79 do
      w[i] = rol(bxor(w[i - 3], w[i - 8], w[i - 14], w[i - 16]), 1)
    end
    local a, b, c, d, e = h0, h1, h2, h3, h4
    for i = 0, 79 do
      local f, k
      if i < 20 then
        f, k = bor(band(b, c), band(bnot(b), d)), 0x5A827999
      elseif i < 40 then
        f, k = bxor(b, c, d), 0x6ED9EBA1
      elseif i < 60 then
        f, k = bor(band(b, c), band(b, d), band(c, d)), 0x8F1BBCDC
      else
        f, k = bxor(b, c, d), 0xCA62C1D6
      end
      local temp = tobit(rol(a, 5) + f + e + k + w[i])
      e, d, c, b, a = d, c, rol(b, 30), a, temp
    end
    h0, h1, h2, h3, h4 = tobit(h0 + a), tobit(h1 + b), tobit(h2 + c), tobit(h3 + d), tobit(h4 + e)
  end
  return tohex(h0) .. tohex(h1) .. tohex(h2) .. tohex(h3) .. tohex(h4)
end

local threads = {}
local counter = 1

function setup(thread)
  thread:set("id", counter)
  counter = counter + 1
  table.insert(threads, thread)
end

local token, users, base, first, second
local sent, next_user, count = {}, 1, 0
answers, echoed, busy, other = 0, 0, 0, 0

function init(args)
  token, base, first, second = args[1], tonumber(args[4]), args[5], args[6]
  local total, prefix = tonumber(args[3]), args[2]
  local thread_count = tonumber(args[7])
  users = {}
  for u = 0, total - 1 do
    if u % thread_count == id - 1 then
      table.insert(users, prefix .. u)
    end
  end
end

function request()
  local user = users[next_user]
  next_user = next_user % #users + 1
  local n = sent[user] or 0
  sent[user] = n + 1
  count = count + 1
  local msgid = string.format("%.0f", base + id * 100000000 + count)
  local timestamp = tostring(os.time())
  local nonce = "b" .. msgid
  local parts = { token, timestamp, nonce }
  table.sort(parts)
  local path = "/wechat?signature=" .. sha1(table.concat(parts)) .. "&timestamp=" .. timestamp
    .. "&nonce=" .. nonce .. "&openid=" .. user
  local body = "<xml><ToUserName><![CDATA[gh_bench]]></ToUserName><FromUserName><![CDATA[" .. user
    .. "]]></FromUserName><CreateTime>" .. timestamp .. "</CreateTime><MsgType><![CDATA[text]]></MsgType>"
    .. "<Content><![CDATA[" .. ((n % 2 == 0) and first or second) .. "]]></Content><MsgId>" .. msgid
    .. "</MsgId></xml>"
  return wrk.format("POST", path, { ["Content-Type"] = "text/xml" }, body)
end

function response(status, headers, body)
  if status == 200 and (body:find("✓", 1, true) or body:find("【", 1, true)) then
    answers = answers + 1
  elseif status == 200 and (body:find("[" .. first .. "]", 1, true) or body:find("[" .. second .. "]", 1, true)) then
    echoed = echoed + 1
  elseif body:find("请稍候", 1, true) or body:find("繁忙", 1, true) then
    busy = busy + 1
  else
    other = other + 1
  end
end

function done(summary, latency, requests)
  local a, x, b, o = 0, 0, 0, 0
  for _, thread in ipairs(threads) do
    a, x = a + thread:get("answers"), x + thread:get("echoed")
    b, o = b + thread:get("busy"), o + thread:get("other")
  end
  local errors = summary.errors
  -- The replies slower than WeChat's budget of 4.5 s, from the percentile where latency passes it
  -- (bisected; a reply past wrk's --timeout is not among them: it is a timeout error).
  local over = 0
  if latency.max > 4500000 then
    local low, high = 0, 100
    for _ = 1, 40 do
      local middle = (low + high) / 2
      if latency:percentile(middle) > 4500000 then high = middle else low = middle end
    end
    over = math.floor(summary.requests * (100 - high) / 100 + 0.5)
  end
  io.write(string.format(
    'BENCH {"requests": %d, "seconds": %.3f, "p50_ms": %.2f, "p99_ms": %.2f, "non2xx": %d, '
      .. '"socket_errors": %d, "answers": %d, "echoed": %d, "busy": %d, "other": %d, "max_ms": %.2f, '
      .. '"over_budget": %d, "timeouts": %d}\n',
    summary.requests, summary.duration / 1e6, latency:percentile(50) / 1000, latency:percentile(99) / 1000,
    errors.status, errors.connect + errors.read + errors.write + errors.timeout, a, x, b, o,
    latency.max / 1000, over, errors.timeout))
end
