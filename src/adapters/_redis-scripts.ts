/**
 * The Lua scripts of `RedisTokenStore` (internal). The fine-grained operations and the intent-level steps
 * share their pieces (the attempt's judgement, the counters, the claim, the event append), so the two forms
 * cannot drift apart.
 *
 * A token is a hash: `d` the immutable fields as a JSON array (what the client reads back), `s` status, `a`
 * attempts, and the fields the scripts compare: `i` tokenId, `e` expiresAtMs, `p` providerId, `h` codeHash,
 * `m` maxAttempts; `ph` and `pe` the codeHash and expiresAtMs of the token it superseded while that one was
 * live (absent otherwise); `b` the hash tag of its beneficiary (absent on tokens saved before the steps), so
 * a verify step on one server reaches the beneficiary's failures and events in the same script; `j` and `k`
 * the JSON texts of a verification event's `beneficiaryId` and `guideId`, and of its `tokenId` and `channel`
 * (each with its leading comma; absent on older tokens, whose verify reads them out of `d`). Scripts
 * return `{d, s, a}` rather than HGETALL: converting a whole hash to Lua and back costs more than the rest.
 *
 * @module
 */
import { sha1 } from "@noble/hashes/legacy.js";
import { bytesToHex, utf8ToBytes } from "@noble/hashes/utils.js";
import { TOKEN_VALUE_FIELDS } from "./_redis-token.js";

/** A script and its SHA-1 (for `EVALSHA`). */
export interface Script {
  readonly source: string;
  readonly sha: string;
}

function script(source: string): Script {
  return { source, sha: bytesToHex(sha1(utf8ToBytes(source))) };
}

/** The helpers of a script, each once, in the order given (a helper comes after those it calls). */
function uses(...helpers: string[]): string {
  return [...new Set(helpers)].join("");
}

// Every script defines only the helpers it calls: a helper is a closure made again on every run. Numbers read
// from ARGV or from a hash are coerced by arithmetic (`x + 0`, cheaper than `tonumber`; our own fields and
// arguments always hold numbers), and written back as text by int(), whose '%d' gives the same text as '%.0f'
// (what these scripts always wrote) for the integers it takes, at half the cost.
const INT_FN = `
local function int(x)
  if x % 1 == 0 and x > -9007199254740992 and x < 9007199254740992 then return string.format('%d', x) end
  return string.format('%.0f', x)
end
`;

// Fixed-window counters. incr: the TTL is set when a window starts (windowMs) and never shortened, so a caller's
// clock running ahead of Redis' cannot drop a live window; given c (its HMGET of 'count', 'resetAtMs', read
// by the same script) it does not read the counter again. Returns the count and resetAtMs as text.
const INCR_FN = `
local function incr(k, win, now, c)
  c = c or redis.call('HMGET', k, 'count', 'resetAtMs')
  if c[1] and c[2] + 0 > now then
    return redis.call('HINCRBY', k, 'count', 1), c[2]
  end
  local reset = now + win
  local r = int(reset)
  redis.call('HSET', k, 'count', '1', 'resetAtMs', r)
  local ttl = reset - now
  if ttl < 1 then ttl = 1 end
  redis.call('PEXPIRE', k, int(ttl))
  return 1, r
end
`;
// decr: one hit back in the current window, not below 0.
const DECR_FN = `
local function decr(k, now)
  local c = redis.call('HMGET', k, 'count', 'resetAtMs')
  if not c[1] or tonumber(c[2]) <= now then return 0, '0' end
  local count = tonumber(c[1])
  if count > 0 then count = redis.call('HINCRBY', k, 'count', -1) end
  return count, c[2]
end
`;
// peek: the count and resetAtMs (as text) of a counter's HMGET of 'count', 'resetAtMs'; 0 and '0' outside a window.
const PEEK_FN = `
local function peek(c, now)
  if c[1] and c[2] and c[2] + 0 > now then return c[1] + 0, c[2] end
  return 0, '0'
end
`;

// Set-if-absent with expiry: true for the first claim.
const CLAIM_FN = `
local function claim(k, expires, now)
  local e = redis.call('GET', k)
  if e and tonumber(e) > now then return false end
  local ttl = tonumber(expires) - now
  if ttl > 0 then
    redis.call('SET', k, expires, 'PX', string.format('%.0f', ttl))
  else
    redis.call('DEL', k)
  end
  return true
end
`;

// The event log: a sorted set of seqs scored by atMs and a hash: 'e:<seq>' -> event JSON, 'd:<seq>' -> event
// id, 'i:<id>' -> seq, '#seq' the last seq given, '#min' the oldest atMs in the log (absent in logs written
// before it: read from the set once) and '#exp' the atMs until which the log's keys are known to live (absent
// in logs written before it; '#max', the newest atMs, was kept before '#exp' and is dropped when '#exp' is
// first set). The log lives at least the retention past its newest event, by the clock of the calls that
// append to it (the log's TTL is relative, set from the event's atMs as now): an append that finds '#exp'
// covering its event's atMs plus the retention leaves the TTL alone; otherwise it sets the TTL to the
// retention plus a slack (an hour, or the retention when shorter) past the newest event, so the appends that
// follow within the slack skip it. trim removes every entry older than the cutoff (when given) and the
// oldest beyond the cap; it is given what append knows: the last seq (a log never holds more events than seqs
// were given, so a seq within the cap spares counting the set) and the oldest atMs (at or after the cutoff:
// nothing is too old).
const OLDEST_FN = `
local function oldest(z, h)
  local low = redis.call('ZRANGE', z, 0, 0, 'WITHSCORES')
  if not low[2] then return nil end
  local lo = tonumber(low[2])
  redis.call('HSET', h, '#min', string.format('%.0f', lo))
  return lo
end
`;
const TRIM_FN = `
local function trim(z, h, cutoff, cap, seq, lo)
  local old = 0
  if cutoff and (not lo or lo < tonumber(cutoff)) then old = redis.call('ZCOUNT', z, '-inf', '(' .. cutoff) end
  local over = 0
  if not seq or seq > cap then
    over = redis.call('ZCARD', z) - old - cap
    if over < 0 then over = 0 end
  end
  local n = old + over
  if n == 0 then
    if not lo then oldest(z, h) end
    return 0
  end
  local victims = redis.call('ZRANGE', z, 0, n - 1)
  for _, m in ipairs(victims) do
    local id = redis.call('HGET', h, 'd:' .. m)
    if id and redis.call('HGET', h, 'i:' .. id) == m then redis.call('HDEL', h, 'i:' .. id) end
    redis.call('HDEL', h, 'e:' .. m, 'd:' .. m)
  end
  redis.call('ZREMRANGEBYRANK', z, 0, n - 1)
  if not oldest(z, h) then redis.call('DEL', z, h) end
  return n
end
`;
// append adds one event (its JSON exactly as given) and trims. Three ways: a new log (the event is its oldest
// and newest); the common case, an integer atMs (safe) with nothing too old and '#exp' covering it (no TTL to
// set: the ZADD and one HSET, the cap's trim when past it); any other case as the scripts before '#exp' did
// it, the TTL set only when '#exp' does not cover the event.
const APPEND_FN = `
local function append(z, h, id, at, json, cap, retention)
  local st = redis.call('HMGET', h, '#seq', '#min', '#exp')
  local a = at + 0
  local exact = a % 1 == 0 and a > -9007199254740992 and a < 9007199254740992
  if not st[1] then
    local m = '0000000000000001'
    local ttl = retention + (retention < 3600000 and retention or 3600000)
    redis.call('ZADD', z, at, m)
    redis.call('HSET', h, '#seq', m, '#min', exact and at or int(a), '#exp', int(math.floor(a + ttl)),
      'e:' .. m, json, 'd:' .. m, id, 'i:' .. id, m)
    local t = int(ttl)
    redis.call('PEXPIRE', z, t)
    redis.call('PEXPIRE', h, t)
    return
  end
  local seq = st[1] + 1
  local m = string.format('%016d', seq)
  redis.call('ZADD', z, at, m)
  local lo = st[2] and st[2] + 0
  local exp = st[3] and st[3] + 0
  if exact and lo and exp and lo >= a - retention and a + retention <= exp then
    if a < lo then
      redis.call('HSET', h, '#seq', m, '#min', at, 'e:' .. m, json, 'd:' .. m, id, 'i:' .. id, m)
    else
      redis.call('HSET', h, '#seq', m, 'e:' .. m, json, 'd:' .. m, id, 'i:' .. id, m)
    end
    if seq > cap then trim(z, h, nil, cap, seq, lo) end
    return
  end
  if lo and a < lo then lo = a end
  if lo then
    redis.call('HSET', h, '#seq', m, '#min', string.format('%.0f', lo), 'e:' .. m, json, 'd:' .. m, id,
      'i:' .. id, m)
  else
    redis.call('HSET', h, '#seq', m, 'e:' .. m, json, 'd:' .. m, id, 'i:' .. id, m)
  end
  trim(z, h, string.format('%.0f', a - retention), cap, seq, lo)
  if exp and a + retention <= exp then return end
  local newest = a
  if not exp then
    -- a log written before '#exp': its newest event from the set ('#max' goes)
    local top = redis.call('ZREVRANGE', z, 0, 0, 'WITHSCORES')
    if top[2] and top[2] + 0 > a then newest = top[2] + 0 end
    redis.call('HDEL', h, '#max')
  end
  local ttl = retention + (retention < 3600000 and retention or 3600000) + newest - a
  if ttl < 1 then ttl = 1 end
  local t = string.format('%.0f', ttl)
  redis.call('PEXPIRE', z, t)
  redis.call('PEXPIRE', h, t)
  redis.call('HSET', h, '#exp', string.format('%.0f', math.floor(a + tonumber(t))))
end
`;

/** The helpers append calls, and append. */
const APPEND = [INT_FN, OLDEST_FN, TRIM_FN, APPEND_FN] as const;

// A token's check (see AttemptResult), without writing: judge reads the HMGET below and answers the outcome,
// attemptsLeft (-1 when not applicable), the status and the attempts after the step (the stored text when
// unchanged); settle writes them.
const TOKEN_FIELDS = `'s', 'e', 'p', 'h', 'm', 'a', 'd', 'ph', 'pe', 'b'`;
const ATTEMPT_FNS = `
local function judge(t, provider, cand, now)
  local status = t[1]
  if not status then return 'not_found', -1 end
  local attempts = t[6]
  local left = -1
  local outcome
  if status == 'revoked' or status == 'consumed' then
    outcome = status
  elseif now >= t[2] + 0 then
    outcome = 'expired'
  elseif status == 'locked' then
    outcome = 'locked'
  else
    if t[3] ~= provider then outcome = 'wrong_provider'
    elseif t[4] ~= cand then
      if t[8] and t[8] == cand and now < t[9] + 0 then outcome = 'superseded'
      else outcome = 'mismatch' end
    else outcome = 'ok' end
    if outcome == 'ok' then
      status = 'consumed'
    elseif outcome ~= 'superseded' then
      -- the previous code, arriving late (superseded), is not counted
      attempts = attempts + 1
      local max = t[5] + 0
      if attempts >= max then
        status = 'locked'
        left = 0
      else
        left = max - attempts
      end
    end
  end
  return outcome, left, status, attempts
end
local function settle(k, outcome, status)
  if outcome == 'ok' then
    redis.call('HSET', k, 's', status)
  elseif outcome == 'mismatch' or outcome == 'wrong_provider' then
    redis.call('HINCRBY', k, 'a', 1)
    if status == 'locked' then redis.call('HSET', k, 's', status) end
  end
end
`;

// The JSON texts of the elements of a JSON array of strings and numbers (the token's 'd', as JSON.stringify
// wrote it): each string keeps its exact escaping, so events built from them read back as the client wrote them.
const ITEMS_FN = `
local function items(d)
  local out = {}
  local i = 2
  local n = #d
  while i < n do
    if string.sub(d, i, i) == '"' then
      local j = i + 1
      while true do
        local k = string.find(d, '["\\\\]', j)
        if string.sub(d, k, k) == '\\\\' then j = k + 2 else j = k break end
      end
      out[#out + 1] = string.sub(d, i, j)
      i = j + 2
    else
      local j = string.find(d, '[,%]]', i)
      out[#out + 1] = string.sub(d, i, j - 1)
      i = j + 1
    end
  end
  return out
end
`;

// Whether the token of an HMGET of 'i', 's', 'e' (first) is live at 'issued', so that a save supersedes it.
const LIVE_FN = `
local function live(cur, issued)
  return cur[1] and cur[2] == 'active' and cur[3] + 0 > issued
end
`;

// The HSET arguments of a new token whose values are ARGV[f..f+8] (TOKEN_VALUE_FIELDS, in the order of the
// fields as the earlier scripts wrote them): the names and the status and attempts are constants of the script.
const TOKEN_HSET = [
  `'d', ARGV[f], 's', 'active', 'a', '0'`,
  ...TOKEN_VALUE_FIELDS.slice(1).map((name, i) => `'${name}', ARGV[f + ${i + 1}]`),
].join(", ");

// KEYS[1] token hash. save writes a new token (its values from ARGV[f], see TOKEN_HSET) with the TTL ttl; cur
// is the token's HMGET of 'i', 's', 'e', 'h', 'd' when the script has read it. A key without any of them holds
// no token: nothing to delete.
const SAVE_FN = `
local function save(k, ttl, issued, f, cur)
  cur = cur or redis.call('HMGET', k, 'i', 's', 'e', 'h', 'd')
  local was = live(cur, issued)
  if cur[1] or cur[2] or cur[3] or cur[4] or cur[5] then redis.call('DEL', k) end
  if was then
    redis.call('HSET', k, ${TOKEN_HSET}, 'ph', cur[4], 'pe', cur[3])
  else
    redis.call('HSET', k, ${TOKEN_HSET})
  end
  redis.call('PEXPIRE', k, ttl)
  if was then return cur[1], cur[5] end
  return nil, nil
end
`;
// KEYS[1] token hash. ARGV[1] ttl ms, ARGV[2] issuedAtMs of the new token, ARGV[3..11] its values.
const SAVE_LUA = `${uses(LIVE_FN, SAVE_FN)}
local superseded = save(KEYS[1], ARGV[1], ARGV[2] + 0, 3)
if superseded then return {superseded} end
return {}
`;

// KEYS[1] token hash. ARGV[1] providerId, ARGV[2] candidateHash, ARGV[3] nowMs.
// Returns {outcome} or {outcome, attemptsLeft (-1 when not applicable), d, status, attempts} after the step.
const ATTEMPT_LUA = `${ATTEMPT_FNS}
local t = redis.call('HMGET', KEYS[1], ${TOKEN_FIELDS})
local outcome, left, status, attempts = judge(t, ARGV[1], ARGV[2], ARGV[3] + 0)
if outcome == 'not_found' then return {outcome} end
settle(KEYS[1], outcome, status)
return {outcome, left, t[7], status, attempts}
`;

// KEYS[1] token hash. ARGV[1] nowMs. Returns {d, status, attempts} as before the revocation, or nil.
const REVOKE_LUA = `
local t = redis.call('HMGET', KEYS[1], 's', 'e', 'd', 'a')
if t[1] ~= 'active' or tonumber(ARGV[1]) >= tonumber(t[2]) then return false end
redis.call('HSET', KEYS[1], 's', 'revoked')
return {t[3], t[1], t[4]}
`;

// KEYS[1] counter hash. ARGV[1] windowMs, ARGV[2] nowMs. Returns {count, resetAtMs}.
const INCREMENT_LUA = `${uses(INT_FN, INCR_FN)}
local count, reset = incr(KEYS[1], ARGV[1] + 0, ARGV[2] + 0)
return {count, reset}
`;

// KEYS[1] counter hash. ARGV[1] nowMs. Takes one hit back in the current window (not below 0).
const DECREMENT_LUA = `${DECR_FN}
local count, reset = decr(KEYS[1], tonumber(ARGV[1]))
return {count, reset}
`;

// KEYS[1] claim string. ARGV[1] expiresAtMs, ARGV[2] nowMs. Returns 1 for the first claim, 0 otherwise.
const CLAIM_LUA = `${CLAIM_FN}
if claim(KEYS[1], ARGV[1], tonumber(ARGV[2])) then return 1 end
return 0
`;

// KEYS[1] zset, KEYS[2] hash. ARGV[1] id, ARGV[2] atMs, ARGV[3] JSON, ARGV[4] cap, ARGV[5] retentionMs.
const APPEND_LUA = `${uses(...APPEND)}
append(KEYS[1], KEYS[2], ARGV[1], ARGV[2], ARGV[3], ARGV[4] + 0, ARGV[5] + 0)
return 1
`;

// Events, and optionally one counter hit first. ARGV[1] '1' when KEYS[1] is a counter to hit, ARGV[2] its
// windowMs, ARGV[3] nowMs, ARGV[4] cap, ARGV[5] retentionMs, then (id, atMs, JSON) per event; KEYS: the
// counter (when hit), then (zset, hash) per event.
const EVENTS_LUA = `${uses(INT_FN, INCR_FN, ...APPEND)}
local ki = 1
if ARGV[1] == '1' then
  incr(KEYS[1], ARGV[2] + 0, ARGV[3] + 0)
  ki = 2
end
local cap = ARGV[4] + 0
local retention = ARGV[5] + 0
for a = 6, #ARGV, 3 do
  append(KEYS[ki], KEYS[ki + 1], ARGV[a], ARGV[a + 1], ARGV[a + 2], cap, retention)
  ki = ki + 2
end
return 1
`;

// The issue step. KEYS: token, sends, [failures when ARGV[1] = '1'], [cooldown when ARGV[2] = '1'], then (zset,
// hash) of the revocation's log and of each issued event's. ARGV[3] nowMs (issuedAtMs), ARGV[4] failures max,
// ARGV[5] cooldown max, ARGV[6] cooldown windowMs, ARGV[7] sends max, ARGV[8] sends windowMs, ARGV[9] token
// ttl, ARGV[10] cap, ARGV[11] retentionMs, ARGV[12] '1' when the events are appended here, ARGV[13]/[14] the
// revocation's JSON before/after its tokenId, ARGV[15] its id, ARGV[16] its atMs, ARGV[17] what the save must
// supersede ('0' no condition, '1' no token, '2' the live token whose id is ARGV[18]), ARGV[19..27] the token's
// values (see TOKEN_HSET), then (id, atMs, JSON) per issued event.
// Returns {refusal, resetAtMs}, {'conflict'} (the save would not supersede what ARGV[17] says) or {'saved',
// supersededId or false}. Every check comes before any write; the counters and the token are read once.
const ISSUE_LUA = `${uses(PEEK_FN, INT_FN, INCR_FN, ...APPEND, LIVE_FN, SAVE_FN)}
local now = ARGV[3] + 0
local ki = 3
local fk
local ck
if ARGV[1] == '1' then fk = KEYS[ki]; ki = ki + 1 end
if ARGV[2] == '1' then ck = KEYS[ki]; ki = ki + 1 end
if fk then
  local n, r = peek(redis.call('HMGET', fk, 'count', 'resetAtMs'), now)
  if n >= ARGV[4] + 0 then return {'locked_out', r} end
end
local cc
if ck then
  cc = redis.call('HMGET', ck, 'count', 'resetAtMs')
  local n, r = peek(cc, now)
  if n >= ARGV[5] + 0 then return {'cooldown', r} end
end
local sc = redis.call('HMGET', KEYS[2], 'count', 'resetAtMs')
local sent, sr = peek(sc, now)
if sent >= ARGV[7] + 0 then return {'sends_per_guide', sr} end
local cur
if ARGV[17] ~= '0' then
  cur = redis.call('HMGET', KEYS[1], 'i', 's', 'e', 'h', 'd')
  local expect = false
  if ARGV[17] == '2' then expect = ARGV[18] end
  if (live(cur, now) and cur[1] or false) ~= expect then return {'conflict'} end
end
if ck then incr(ck, ARGV[6] + 0, now, cc) end
incr(KEYS[2], ARGV[8] + 0, now, sc)
local superseded, data = save(KEYS[1], ARGV[9], now, 19, cur)
if ARGV[12] == '1' then
  local cap = ARGV[10] + 0
  local retention = ARGV[11] + 0
  if superseded then
    ${ITEMS_FN.trim()}
    local json = ARGV[13] .. items(data)[1] .. ARGV[14]
    append(KEYS[ki], KEYS[ki + 1], ARGV[15], ARGV[16], json, cap, retention)
  end
  ki = ki + 2
  for a = 28, #ARGV, 3 do
    append(KEYS[ki], KEYS[ki + 1], ARGV[a], ARGV[a + 1], ARGV[a + 2], cap, retention)
    ki = ki + 2
  end
end
return {'saved', superseded or false}
`;

// The issue's checks on the guide's slot, writing nothing. KEYS[1] token, KEYS[2] sends, KEYS[3] cooldown (when
// ARGV[2] = '1'). ARGV[1] nowMs (issuedAtMs), ARGV[3] cooldown max, ARGV[4] sends max.
// Returns {refusal, resetAtMs} or {'ok', the id of the live token a save would supersede, or false}.
const ISSUE_CHECK_LUA = `${uses(PEEK_FN, LIVE_FN)}
local now = ARGV[1] + 0
if ARGV[2] == '1' then
  local n, r = peek(redis.call('HMGET', KEYS[3], 'count', 'resetAtMs'), now)
  if n >= ARGV[3] + 0 then return {'cooldown', r} end
end
local sent, sr = peek(redis.call('HMGET', KEYS[2], 'count', 'resetAtMs'), now)
if sent >= ARGV[4] + 0 then return {'sends_per_guide', sr} end
local cur = redis.call('HMGET', KEYS[1], 'i', 's', 'e')
return {'ok', live(cur, now) and cur[1] or false}
`;

// Takes back events an append made (see EVENTS_LUA), by id: KEYS (zset, hash) per event, ARGV the ids. An id
// no longer in its log (trimmed since) is skipped; '#min' follows the events left ('#exp' still covers them).
// Returns 1.
const UNAPPEND_LUA = `${OLDEST_FN}
for a = 1, #ARGV do
  local z = KEYS[2 * a - 1]
  local h = KEYS[2 * a]
  local id = ARGV[a]
  local m = redis.call('HGET', h, 'i:' .. id)
  if m and redis.call('HGET', h, 'd:' .. m) == id then
    redis.call('ZREM', z, m)
    redis.call('HDEL', h, 'e:' .. m, 'd:' .. m, 'i:' .. id)
    if not oldest(z, h) then redis.call('DEL', z, h) end
  end
end
return 1
`;

// The verify step, one script per store: its prefix, cap and retentionMs are constants of the source (three
// arguments fewer on every call; a store's scripts are cached on the server once per such triple). KEYS[1] token
// hash, KEYS[2] (when given: the beneficiary's side is settled here too, one server, its keys named from the
// token's 'b' and not in KEYS) the provider's counter. ARGV[1] providerId, ARGV[2] candidateHash, ARGV[3]
// nowMs, ARGV[4] the first event's id, ARGV[5] what only a wrong code or provider reads (one argument rather
// than three: each costs the server and the driver): '<failure windowMs>,<provider windowMs>,<the second
// event's id (token.locked)>'; ARGV[6..8], given only when the JSON text of one of providerId and the two ids
// is not the text itself in quotes (escapes), the JSON texts of the three: otherwise the script quotes them.
// Returns {outcome} or {outcome, d, status, attempts, settled (1/0)} after the step, followed for mismatch and
// wrong_provider by attemptsLeft, and for wrong_provider by the provider's count (-1 when not settled here).
// The events are built as verifyStepEvents builds them, field for field (the guide's JSON text, for a token
// without 'j', is its own in 'd': the same JSON.stringify of the same guideId). The beneficiary's writes come
// before the token's, so a server that refuses the undeclared keys (a cluster node) fails the script before
// any write.
const VERIFY_LUA = `${uses(INT_FN, INCR_FN, ...APPEND, ATTEMPT_FNS)}
local now = ARGV[3] + 0
local t = redis.call('HMGET', KEYS[1], ${TOKEN_FIELDS}, 'j', 'k')
local outcome, left, status, attempts = judge(t, ARGV[1], ARGV[2], now)
if outcome == 'not_found' then return {outcome} end
local settled = 0
local pf = -1
local b = t[10]
if KEYS[2] and b then
  local z = PREFIX .. ':ez:{' .. b .. '}'
  local h = PREFIX .. ':eh:{' .. b .. '}'
  local id1
  if outcome == 'mismatch' or outcome == 'wrong_provider' then
    local fw, pw, l1 = string.match(ARGV[5], '^([^,]*),([^,]*),(.*)$')
    id1 = l1
    if outcome == 'mismatch' then incr(PREFIX .. ':c:{' .. b .. '}:bf', fw + 0, now)
    else pf = incr(KEYS[2], pw + 0, now) end
  end
  -- the event's fields after atMs: beneficiaryId and guideId (j), providerId, tokenId and channel (k)
  local j = t[11]
  local k = t[12]
  if not (j and k) then
    ${ITEMS_FN.trim()}
    local it = items(t[7])
    j = ',"beneficiaryId":' .. it[4] .. ',"guideId":' .. it[2]
    k = ',"tokenId":' .. it[1] .. ',"channel":' .. it[9]
  end
  -- q quotes the ids (the JSON texts in ARGV[6..8] come with their quotes)
  local q = '"'
  local pj = ARGV[1]
  local e0 = ARGV[4]
  if ARGV[6] then
    q = ''
    pj = ARGV[6]
    e0 = ARGV[7]
  end
  local head
  if outcome ~= 'ok' then
    head = '{"id":' .. q .. e0 .. q .. ',"atMs":' .. ARGV[3] .. j .. ',"providerId":' .. q .. pj .. q .. k
  end
  if outcome == 'ok' then
    -- one concatenation, without a head string of its own
    append(z, h, ARGV[4], ARGV[3], '{"id":' .. q .. e0 .. q .. ',"atMs":' .. ARGV[3] .. j .. ',"providerId":' .. q
      .. pj .. q .. k .. ',"type":"token.verified"}', CAP, RETENTION)
  elseif outcome == 'mismatch' or outcome == 'wrong_provider' then
    local json = head .. ',"type":"token.rejected","reason":"' .. outcome .. '","attemptsLeft":'
      .. string.format('%d', left)
    if outcome == 'wrong_provider' then json = json .. ',"providerFailures":' .. string.format('%d', pf) end
    append(z, h, ARGV[4], ARGV[3], json .. '}', CAP, RETENTION)
    if left == 0 then
      local e1 = ARGV[8] or '"' .. id1 .. '"'
      local locked = '{"id":' .. e1 .. ',"atMs":' .. ARGV[3] .. j .. ',"providerId":' .. q .. pj .. q .. k
        .. ',"type":"token.locked","reason":"' .. outcome .. '"}'
      append(z, h, id1, ARGV[3], locked, CAP, RETENTION)
    end
  else
    append(z, h, ARGV[4], ARGV[3], head .. ',"type":"token.rejected","reason":"' .. outcome .. '"}', CAP,
      RETENTION)
  end
  settled = 1
end
settle(KEYS[1], outcome, status)
if outcome == 'wrong_provider' then return {outcome, t[7], status, attempts, settled, left, pf} end
if outcome == 'mismatch' then return {outcome, t[7], status, attempts, settled, left} end
return {outcome, t[7], status, attempts, settled}
`;

/**
 * The verify script of a store: `VERIFY_LUA` with its prefix (letters, digits, `_`, `.`, `-`, `:`), cap and
 * retentionMs (safe integers) as constants.
 */
export function verifyScript(prefix: string, cap: number, retentionMs: number): Script {
  return script(`local PREFIX, CAP, RETENTION = '${prefix}', ${cap}, ${retentionMs}\n${VERIFY_LUA}`);
}

// App mode, before the comparison. KEYS[1] failures, KEYS[2] app attempts, KEYS[3] app secret, KEYS[4]/[5] the
// locked event's log. ARGV[1] nowMs, ARGV[2] failures max, ARGV[3] its windowMs, ARGV[4] attempts max, ARGV[5]
// its windowMs, ARGV[6] cap, ARGV[7] retentionMs, ARGV[8..10] the locked event's id, atMs, JSON.
// Returns {'locked'}, {'not_found'} or {'compare', attempts, keyId, ciphertext, createdAtMs}.
const APP_BEGIN_LUA = `${uses(INT_FN, INCR_FN, DECR_FN, ...APPEND)}
local now = tonumber(ARGV[1])
local function locked()
  decr(KEYS[1], now)
  append(KEYS[4], KEYS[5], ARGV[8], ARGV[9], ARGV[10], tonumber(ARGV[6]), tonumber(ARGV[7]))
  return {'locked'}
end
if incr(KEYS[1], tonumber(ARGV[3]), now) > tonumber(ARGV[2]) then return locked() end
local attempts = incr(KEYS[2], tonumber(ARGV[5]), now)
if attempts > tonumber(ARGV[4]) then return locked() end
local s = redis.call('HMGET', KEYS[3], 'keyId', 'ciphertext', 'createdAtMs')
if not (s[1] or s[2] or s[3]) then
  decr(KEYS[1], now)
  return {'not_found'}
end
return {'compare', attempts, s[1] or false, s[2] or false, s[3] or false}
`;

// App mode, a matched code. KEYS[1] the step's claim, KEYS[2] failures, KEYS[3]/[4] the verified event's log,
// KEYS[5]/[6] the replayed event's. ARGV[1] nowMs, ARGV[2] the claim's expiresAtMs, ARGV[3] cap, ARGV[4]
// retentionMs, ARGV[5..7] the verified event's id, atMs, JSON, ARGV[8..10] the replayed event's.
// Returns 1 for the step's first claim, 0 for a replay.
const APP_FINISH_LUA = `${uses(DECR_FN, CLAIM_FN, ...APPEND)}
local now = tonumber(ARGV[1])
local first = claim(KEYS[1], ARGV[2], now)
decr(KEYS[2], now)
local cap = tonumber(ARGV[3])
local retention = tonumber(ARGV[4])
if first then
  append(KEYS[3], KEYS[4], ARGV[5], ARGV[6], ARGV[7], cap, retention)
  return 1
end
append(KEYS[5], KEYS[6], ARGV[8], ARGV[9], ARGV[10], cap, retention)
return 0
`;

// KEYS[1] zset, KEYS[2] hash. ARGV[1] limit, ARGV[2] '1' when a cursor is given, ARGV[3] cursor id.
const LIST_LUA = `
local start = 0
if ARGV[2] == '1' then
  local m = redis.call('HGET', KEYS[2], 'i:' .. ARGV[3])
  if not m then return {} end
  local r = redis.call('ZREVRANK', KEYS[1], m)
  if not r then return {} end
  start = r + 1
end
local ms = redis.call('ZREVRANGE', KEYS[1], start, start + tonumber(ARGV[1]) - 1)
local out = {}
for i, m in ipairs(ms) do out[i] = redis.call('HGET', KEYS[2], 'e:' .. m) end
return out
`;

// Purge, one key at a time. KEYS[1] the key. ARGV[1] nowMs. Returns 1 when it deleted the key.
const PURGE_TOKEN_LUA = `
local e = redis.call('HGET', KEYS[1], 'e')
if e and tonumber(e) <= tonumber(ARGV[1]) then redis.call('DEL', KEYS[1]) return 1 end
return 0
`;
const PURGE_COUNTER_LUA = `
local e = redis.call('HGET', KEYS[1], 'resetAtMs')
if e and tonumber(e) <= tonumber(ARGV[1]) then redis.call('DEL', KEYS[1]) return 1 end
return 0
`;
const PURGE_CLAIM_LUA = `
local e = redis.call('GET', KEYS[1])
if e and tonumber(e) <= tonumber(ARGV[1]) then redis.call('DEL', KEYS[1]) return 1 end
return 0
`;
// KEYS[1] zset, KEYS[2] hash. ARGV[1] cutoff (events with atMs < cutoff go), ARGV[2] cap.
const PURGE_EVENTS_LUA = `${uses(OLDEST_FN, TRIM_FN)}
return trim(KEYS[1], KEYS[2], ARGV[1], tonumber(ARGV[2]))
`;

/** Every script of the store. */
export const SCRIPTS = {
  save: script(SAVE_LUA),
  attempt: script(ATTEMPT_LUA),
  revoke: script(REVOKE_LUA),
  increment: script(INCREMENT_LUA),
  decrement: script(DECREMENT_LUA),
  claim: script(CLAIM_LUA),
  append: script(APPEND_LUA),
  events: script(EVENTS_LUA),
  issue: script(ISSUE_LUA),
  issueCheck: script(ISSUE_CHECK_LUA),
  unappend: script(UNAPPEND_LUA),
  appBegin: script(APP_BEGIN_LUA),
  appFinish: script(APP_FINISH_LUA),
  list: script(LIST_LUA),
  purgeToken: script(PURGE_TOKEN_LUA),
  purgeCounter: script(PURGE_COUNTER_LUA),
  purgeClaim: script(PURGE_CLAIM_LUA),
  purgeEvents: script(PURGE_EVENTS_LUA),
} as const;
