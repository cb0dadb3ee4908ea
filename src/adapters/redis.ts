/**
 * `health-token/redis`: a {@link TokenStore} on Redis (6.2+, standalone or Cluster), for many backend
 * instances sharing one token state.
 *
 * Every operation is one round trip: a Lua script sent with `EVALSHA` (falling back to `EVAL` once when the
 * server answers `NOSCRIPT`, after a restart or a failover) or a single command. The keys one script touches
 * share a hash tag (`{…}`), so the scripts run unchanged on Redis Cluster. Identifiers are base64url-encoded
 * inside the tag, so quotes, colons, braces and unicode in ids cannot break out of it.
 *
 * The client is an `ioredis` client or `Cluster`, or a node-redis v5 client or cluster (`createCluster`), that the
 * caller creates, connects and closes; this module never imports either driver.
 *
 * @example
 * ```ts
 * import Redis from "ioredis";
 * import { RedisTokenStore } from "health-token/redis";
 *
 * // fail fast when Redis is down instead of queueing commands forever
 * const client = new Redis(process.env.REDIS_URL, { enableOfflineQueue: false, maxRetriesPerRequest: 1 });
 * const store = new RedisTokenStore({ client, prefix: "ht" });
 * // or: const client = createClient({ url, disableOfflineQueue: true }); await client.connect();
 * ```
 *
 * @module
 */

import { sha1 } from "@noble/hashes/legacy.js";
import { bytesToHex, utf8ToBytes } from "@noble/hashes/utils.js";
import { argOptions } from "../_internal/args.js";
import { ConfigError, StoreUnavailableError } from "../errors.js";
import type { TokenEvent } from "../ports/events.js";
import type { Channel } from "../ports/notifier.js";
import type {
  AppSecretRecord,
  AttemptInput,
  AttemptResult,
  CounterState,
  ListEventsOptions,
  NewToken,
  PurgeResult,
  StoredToken,
  TokenStatus,
  TokenStore,
} from "../ports/store.js";

/** An ioredis client (`Redis` or `Cluster`): anything with `call(command, ...args)`. */
export interface IoRedisLikeClient {
  /** Sends one command and resolves with its raw reply. */
  call(command: string, ...args: string[]): Promise<unknown>;
}

/** A node-redis (v4, v5) client: anything with `sendCommand([command, ...args])`. */
export interface NodeRedisLikeClient {
  /** Sends one command and resolves with its raw reply. */
  sendCommand(args: string[]): Promise<unknown>;
}

/**
 * An ioredis `Cluster`: `call` routes by key; `nodes("master")` lists the masters, which `purge` scans one by one.
 *
 * @example
 * ```ts
 * import { Cluster } from "ioredis";
 * const client: IoRedisClusterLike = new Cluster([{ host: "127.0.0.1", port: 7101 }]);
 * const store = new RedisTokenStore({ client });
 * ```
 */
export interface IoRedisClusterLike extends IoRedisLikeClient {
  /** The connected clients of the cluster's masters. */
  nodes(role: "master"): IoRedisLikeClient[];
}

/**
 * A node-redis v5 cluster (`createCluster`): `sendCommand(firstKey, isReadonly, args)` routes by key;
 * `masters` and `nodeClient` give each master's client, which `purge` scans one by one.
 *
 * @example
 * ```ts
 * import { createCluster } from "redis";
 * const client = createCluster({ rootNodes: [{ url: "redis://127.0.0.1:7101" }] });
 * await client.connect();
 * const store = new RedisTokenStore({ client });
 * ```
 */
export interface NodeRedisClusterLike {
  /** Sends one command to the master of `firstKey`'s slot and resolves with its raw reply. */
  sendCommand(
    firstKey: string | undefined,
    isReadonly: boolean | undefined,
    args: string[],
  ): Promise<unknown>;
  /** The cluster's masters, as known from its last slot refresh. */
  readonly masters: readonly unknown[];
  /** The client of one of {@link NodeRedisClusterLike.masters}. */
  nodeClient(node: never): Promise<NodeRedisLikeClient>;
}

/** The Redis clients {@link RedisTokenStore} accepts, described structurally. */
export type RedisClientLike =
  | IoRedisLikeClient
  | IoRedisClusterLike
  | NodeRedisLikeClient
  | NodeRedisClusterLike;

/** Sends one command; `key` is the key that routes it on a cluster (`undefined` for none). */
type Send = (args: string[], key: string | undefined) => Promise<unknown>;

/** Options of {@link RedisTokenStore}. */
export interface RedisTokenStoreOptions {
  /** A connected client the caller owns (ioredis or node-redis). */
  readonly client: RedisClientLike;
  /** Key prefix: letters, digits, `_`, `.`, `-` and `:` (no braces), 1–128 characters. Default `ht`. */
  readonly prefix?: string;
  /** How long events are kept (ms). Default 365 days. */
  readonly eventRetentionMs?: number;
  /** At most this many events per beneficiary; the oldest are dropped. Default 1,000. */
  readonly maxEventsPerBeneficiary?: number;
  /**
   * How long a token's record outlives its expiry (ms), so late attempts answer `expired` or `consumed`
   * rather than `not_found`. The key's TTL is `expiresAtMs - issuedAtMs + tokenRetentionMs`. Default 24 h.
   */
  readonly tokenRetentionMs?: number;
}

const DAY_MS = 86_400_000;
const PREFIX_RE = /^[A-Za-z0-9_.:-]{1,128}$/;

type Kind = "t" | "c" | "o" | "s" | "ez" | "eh";

// A token is a hash: 'd' the immutable fields as a JSON array (what the client reads back), 's' status, 'a' attempts,
// and the fields the scripts compare: 'i' tokenId, 'e' expiresAtMs, 'p' providerId, 'h' codeHash, 'm' maxAttempts;
// 'ph' and 'pe' the codeHash and expiresAtMs of the token it superseded while that one was live (absent otherwise).
// Scripts return {d, s, a} rather than HGETALL: converting a whole hash to Lua and back costs more than the rest.

// KEYS[1] token hash. ARGV[1] ttl ms, ARGV[2] issuedAtMs of the new token, ARGV[3..] field/value pairs.
const SAVE_LUA = `
local cur = redis.call('HMGET', KEYS[1], 'i', 's', 'e', 'h')
local superseded = {}
local live = cur[1] and cur[2] == 'active' and tonumber(cur[3]) > tonumber(ARGV[2])
if live then superseded[1] = cur[1] end
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], unpack(ARGV, 3))
if live then redis.call('HSET', KEYS[1], 'ph', cur[4], 'pe', cur[3]) end
redis.call('PEXPIRE', KEYS[1], ARGV[1])
return superseded
`;

// KEYS[1] token hash. ARGV[1] providerId, ARGV[2] candidateHash, ARGV[3] nowMs.
// Returns {outcome} or {outcome, attemptsLeft (-1 when not applicable), d, status, attempts} after the step.
const ATTEMPT_LUA = `
local t = redis.call('HMGET', KEYS[1], 's', 'e', 'p', 'h', 'm', 'a', 'd', 'ph', 'pe')
local status = t[1]
if not status then return {'not_found'} end
local attempts = tonumber(t[6])
local outcome
local left = -1
if status == 'revoked' or status == 'consumed' then
  outcome = status
elseif tonumber(ARGV[3]) >= tonumber(t[2]) then
  outcome = 'expired'
elseif status == 'locked' then
  outcome = 'locked'
else
  if t[3] ~= ARGV[1] then outcome = 'wrong_provider'
  elseif t[4] ~= ARGV[2] then
    if t[8] and t[8] == ARGV[2] and tonumber(ARGV[3]) < tonumber(t[9]) then outcome = 'superseded'
    else outcome = 'mismatch' end
  else outcome = 'ok' end
  if outcome == 'superseded' then
    -- the previous code, arriving late: nothing is counted
  elseif outcome == 'ok' then
    status = 'consumed'
    redis.call('HSET', KEYS[1], 's', status)
  else
    attempts = redis.call('HINCRBY', KEYS[1], 'a', 1)
    local max = tonumber(t[5])
    if attempts >= max then
      status = 'locked'
      redis.call('HSET', KEYS[1], 's', status)
      left = 0
    else
      left = max - attempts
    end
  end
end
return {outcome, left, t[7], status, attempts}
`;

// KEYS[1] token hash. ARGV[1] nowMs. Returns {d, status, attempts} as before the revocation, or nil.
const REVOKE_LUA = `
local t = redis.call('HMGET', KEYS[1], 's', 'e', 'd', 'a')
if t[1] ~= 'active' or tonumber(ARGV[1]) >= tonumber(t[2]) then return false end
redis.call('HSET', KEYS[1], 's', 'revoked')
return {t[3], t[1], t[4]}
`;

// KEYS[1] counter hash. ARGV[1] windowMs, ARGV[2] nowMs. Returns {count, resetAtMs}. The TTL is set when a
// window starts (windowMs) and never shortened, so a caller's clock running ahead of Redis' cannot drop a live window.
const INCREMENT_LUA = `
local now = tonumber(ARGV[2])
local c = redis.call('HMGET', KEYS[1], 'count', 'resetAtMs')
local count
local reset
if c[1] and tonumber(c[2]) > now then
  count = redis.call('HINCRBY', KEYS[1], 'count', 1)
  reset = tonumber(c[2])
else
  count = 1
  reset = now + tonumber(ARGV[1])
  redis.call('HSET', KEYS[1], 'count', 1, 'resetAtMs', string.format('%.0f', reset))
  redis.call('PEXPIRE', KEYS[1], string.format('%.0f', math.max(1, reset - now)))
end
return {count, string.format('%.0f', reset)}
`;

// KEYS[1] counter hash. ARGV[1] nowMs. Takes one hit back in the current window (not below 0).
const DECREMENT_LUA = `
local c = redis.call('HMGET', KEYS[1], 'count', 'resetAtMs')
if not c[1] or tonumber(c[2]) <= tonumber(ARGV[1]) then return {0, '0'} end
local count = tonumber(c[1])
if count > 0 then count = redis.call('HINCRBY', KEYS[1], 'count', -1) end
return {count, c[2]}
`;

// KEYS[1] claim string. ARGV[1] expiresAtMs, ARGV[2] nowMs. Returns 1 for the first claim, 0 otherwise.
const CLAIM_LUA = `
local e = redis.call('GET', KEYS[1])
local now = tonumber(ARGV[2])
if e and tonumber(e) > now then return 0 end
local ttl = tonumber(ARGV[1]) - now
if ttl > 0 then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', string.format('%.0f', ttl))
else
  redis.call('DEL', KEYS[1])
end
return 1
`;

// Shared by append and purge: removes from the log every entry older than ARGV cutoff and the oldest beyond
// the cap. The hash holds 'e:<seq>' -> event JSON, 'd:<seq>' -> event id, 'i:<id>' -> seq.
const TRIM_LUA_FN = `
local function trim(z, h, cutoff, cap)
  local old = redis.call('ZCOUNT', z, '-inf', '(' .. cutoff)
  local over = redis.call('ZCARD', z) - old - cap
  if over < 0 then over = 0 end
  local n = old + over
  if n == 0 then return 0 end
  local victims = redis.call('ZRANGE', z, 0, n - 1)
  for _, m in ipairs(victims) do
    local id = redis.call('HGET', h, 'd:' .. m)
    if id and redis.call('HGET', h, 'i:' .. id) == m then redis.call('HDEL', h, 'i:' .. id) end
    redis.call('HDEL', h, 'e:' .. m, 'd:' .. m)
  end
  redis.call('ZREMRANGEBYRANK', z, 0, n - 1)
  if redis.call('ZCARD', z) == 0 then redis.call('DEL', z, h) end
  return n
end
`;

// KEYS[1] zset, KEYS[2] hash. ARGV[1] id, ARGV[2] atMs, ARGV[3] JSON, ARGV[4] cap, ARGV[5] retentionMs.
const APPEND_LUA = `${TRIM_LUA_FN}
local seq = redis.call('HINCRBY', KEYS[2], '#seq', 1)
local m = string.format('%016d', seq)
redis.call('ZADD', KEYS[1], ARGV[2], m)
redis.call('HSET', KEYS[2], 'e:' .. m, ARGV[3], 'd:' .. m, ARGV[1], 'i:' .. ARGV[1], m)
local at = tonumber(ARGV[2])
local retention = tonumber(ARGV[5])
trim(KEYS[1], KEYS[2], string.format('%.0f', at - retention), tonumber(ARGV[4]))
local newest = redis.call('ZREVRANGE', KEYS[1], 0, 0, 'WITHSCORES')
local ttl = retention
if newest[2] and tonumber(newest[2]) > at then ttl = ttl + tonumber(newest[2]) - at end
if ttl < 1 then ttl = 1 end
redis.call('PEXPIRE', KEYS[1], string.format('%.0f', ttl))
redis.call('PEXPIRE', KEYS[2], string.format('%.0f', ttl))
return 1
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
const PURGE_EVENTS_LUA = `${TRIM_LUA_FN}
return trim(KEYS[1], KEYS[2], ARGV[1], tonumber(ARGV[2]))
`;

interface Script {
  readonly source: string;
  readonly sha: string;
}

function script(source: string): Script {
  return { source, sha: bytesToHex(sha1(utf8ToBytes(source))) };
}

const SCRIPTS = {
  save: script(SAVE_LUA),
  attempt: script(ATTEMPT_LUA),
  revoke: script(REVOKE_LUA),
  increment: script(INCREMENT_LUA),
  decrement: script(DECREMENT_LUA),
  claim: script(CLAIM_LUA),
  append: script(APPEND_LUA),
  list: script(LIST_LUA),
  purgeToken: script(PURGE_TOKEN_LUA),
  purgeCounter: script(PURGE_COUNTER_LUA),
  purgeClaim: script(PURGE_CLAIM_LUA),
  purgeEvents: script(PURGE_EVENTS_LUA),
} as const;

const B64URL = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/** base64url (no padding) of the UTF-8 bytes of `text`: no braces, colons or glob characters. */
const PLAIN_ID = /^[A-Za-z0-9._-]{1,200}$/;

/**
 * The hash tag of an id: `=<id>` for ids of letters, digits, `.`, `_`, `-` (readable keys), otherwise `_` and
 * the base64url of its UTF-8 bytes. `=` is not a base64url character, so the two forms never collide, and
 * neither holds a brace, a colon or a glob character.
 */
function tagOf(id: string): string {
  return PLAIN_ID.test(id) ? `=${id}` : `_${encodeId(id)}`;
}

function encodeId(text: string): string {
  const bytes = utf8ToBytes(text);
  let out = "";
  for (let i = 0; i < bytes.length; i += 3) {
    const b0 = bytes[i]!;
    const b1 = bytes[i + 1];
    const b2 = bytes[i + 2];
    out += B64URL[b0 >> 2]!;
    out += B64URL[((b0 & 3) << 4) | ((b1 ?? 0) >> 4)]!;
    if (b1 !== undefined) out += B64URL[((b1 & 15) << 2) | ((b2 ?? 0) >> 6)]!;
    if (b2 !== undefined) out += B64URL[b2 & 63]!;
  }
  return out;
}

function isNoScript(error: unknown): boolean {
  return error instanceof Error && error.message.startsWith("NOSCRIPT");
}

function toPairs(reply: unknown): Map<string, string> | undefined {
  if (!Array.isArray(reply) || reply.length === 0) return undefined;
  const map = new Map<string, string>();
  for (let i = 0; i + 1 < reply.length; i += 2) map.set(String(reply[i]), String(reply[i + 1]));
  return map;
}

function fail(op: string, cause?: unknown): StoreUnavailableError {
  return new StoreUnavailableError(`${op} failed`, { cause, scope: "redis" });
}

/**
 * A {@link TokenStore} on Redis. Data layout (inside each hash tag, an id of letters, digits, `.`, `_`, `-` appears
 * as `=<id>`, any other id as `_<base64url of its UTF-8>`):
 * - `<prefix>:t:{<guideId>}`: hash, the guide's latest token (its immutable fields as JSON, status, attempts); TTL `expiresAtMs - issuedAtMs + tokenRetentionMs`;
 * - `<prefix>:c:{<key>}`: hash `count`, `resetAtMs`; TTL until the window ends;
 * - `<prefix>:o:{<key>}`: string `expiresAtMs` (TOTP step claims); TTL until it expires;
 * - `<prefix>:s:{<beneficiaryId>}`: hash, the encrypted app secret (no TTL);
 * - `<prefix>:ez:{<beneficiaryId>}` and `<prefix>:eh:{<beneficiaryId>}`: the event log, a sorted set of
 *   sequence numbers scored by `atMs` and a hash of the events' JSON; bounded by count and retention.
 *
 * Expired records disappear through their TTL; {@link RedisTokenStore.purge} also removes, by `SCAN` on every
 * master of a cluster, what is past its time at a given `nowMs` (the one operation that takes more than one
 * round trip).
 *
 * @example
 * ```ts
 * const store = new RedisTokenStore({ client, prefix: "ht", maxEventsPerBeneficiary: 500 });
 * const tokens = createTokenService({ store, notifier, pepper });
 * ```
 */
export class RedisTokenStore implements TokenStore {
  readonly #send: Send;
  /** One `Send` per node to `SCAN`: the server itself, or every master of a cluster. */
  readonly #masters: () => Promise<Array<(args: string[]) => Promise<unknown>>>;
  readonly #prefix: string;
  readonly #eventRetentionMs: number;
  readonly #maxEvents: number;
  readonly #tokenRetentionMs: number;

  /** @param options - the client and the key layout; see {@link RedisTokenStoreOptions} */
  constructor(options: RedisTokenStoreOptions) {
    argOptions(options, "RedisTokenStore", "redis");
    const client = options.client as
      | Partial<IoRedisClusterLike & NodeRedisLikeClient & Omit<NodeRedisClusterLike, "sendCommand">>
      | undefined;
    const ioSend = (c: IoRedisLikeClient) => (args: string[]) => c.call(args[0]!, ...args.slice(1));
    if (client && typeof client.call === "function") {
      // ioredis (server or Cluster): the driver finds the keys of each command, EVALSHA included
      this.#send = ioSend(client as IoRedisLikeClient);
      const cluster = client as Partial<IoRedisClusterLike>;
      this.#masters =
        typeof cluster.nodes === "function"
          ? async () => (cluster as IoRedisClusterLike).nodes("master").map(ioSend)
          : async () => [ioSend(client as IoRedisLikeClient)];
    } else if (client && typeof client.sendCommand === "function" && Array.isArray(client.masters)) {
      // node-redis cluster: routed by the key we name
      const c = client as unknown as NodeRedisClusterLike;
      this.#send = (args, key) => c.sendCommand(key, false, args);
      this.#masters = () =>
        Promise.all(
          c.masters.map(async (m) => {
            const node = await c.nodeClient(m as never);
            return (args: string[]) => node.sendCommand(args);
          }),
        );
    } else if (client && typeof client.sendCommand === "function") {
      const c = client as NodeRedisLikeClient;
      this.#send = (args) => c.sendCommand(args);
      this.#masters = async () => [(args) => c.sendCommand(args)];
    } else {
      throw new ConfigError("client must be an ioredis or node-redis client", { scope: "redis" });
    }
    const prefix = options.prefix ?? "ht";
    if (!PREFIX_RE.test(prefix)) {
      throw new ConfigError("prefix must be 1-128 characters among letters, digits, _ . : -", {
        scope: "redis",
      });
    }
    this.#prefix = prefix;
    this.#eventRetentionMs = positiveInt(options.eventRetentionMs, 365 * DAY_MS, "eventRetentionMs");
    this.#maxEvents = positiveInt(options.maxEventsPerBeneficiary, 1000, "maxEventsPerBeneficiary");
    this.#tokenRetentionMs = positiveInt(options.tokenRetentionMs, DAY_MS, "tokenRetentionMs", true);
  }

  #key(kind: Kind, id: string): string {
    return `${this.#prefix}:${kind}:{${tagOf(id)}}`;
  }

  /** One single-key command: `args[1]` is its key. */
  async #command(op: string, args: string[]): Promise<unknown> {
    try {
      return await this.#send(args, args[1]);
    } catch (error) {
      throw fail(op, error);
    }
  }

  #eval(op: string, s: Script, keys: string[], args: string[]): Promise<unknown> {
    const tail = [String(keys.length), ...keys, ...args];
    let first: Promise<unknown>;
    try {
      first = this.#send(["EVALSHA", s.sha, ...tail], keys[0]);
    } catch (error) {
      return Promise.reject(fail(op, error));
    }
    return first.catch((error: unknown) => {
      if (!isNoScript(error)) throw fail(op, error);
      return this.#send(["EVAL", s.source, ...tail], keys[0]).catch((again: unknown) => {
        throw fail(op, again);
      });
    });
  }

  async save(token: NewToken): Promise<{ superseded: string[] }> {
    const ttlMs = Math.max(1, Math.ceil(token.expiresAtMs - token.issuedAtMs + this.#tokenRetentionMs));
    const data: TokenData = [
      token.tokenId,
      token.guideId,
      token.providerId,
      token.beneficiaryId,
      token.codeHash,
      token.issuedAtMs,
      token.expiresAtMs,
      token.maxAttempts,
      token.channel,
    ];
    const fields = [
      "d",
      JSON.stringify(data),
      "s",
      "active",
      "a",
      "0",
      "i",
      token.tokenId,
      "e",
      String(token.expiresAtMs),
      "p",
      token.providerId,
      "h",
      token.codeHash,
      "m",
      String(token.maxAttempts),
    ];
    const reply = await this.#eval(
      "save",
      SCRIPTS.save,
      [this.#key("t", token.guideId)],
      [String(ttlMs), String(token.issuedAtMs), ...fields],
    );
    if (!Array.isArray(reply)) throw fail("save");
    return { superseded: reply.map(String) };
  }

  async attempt(input: AttemptInput): Promise<AttemptResult> {
    const reply = await this.#eval(
      "attempt",
      SCRIPTS.attempt,
      [this.#key("t", input.guideId)],
      [input.providerId, input.candidateHash, String(input.nowMs)],
    );
    if (!Array.isArray(reply)) throw fail("attempt");
    const outcome = String(reply[0]);
    if (outcome === "not_found") return { outcome };
    const token = parseToken(reply[2], reply[3], reply[4]);
    if (!token) throw fail("attempt");
    switch (outcome) {
      case "mismatch":
      case "wrong_provider":
        return { outcome, token, attemptsLeft: Number(reply[1]) };
      case "ok":
      case "expired":
      case "consumed":
      case "revoked":
      case "locked":
      case "superseded":
        return { outcome, token };
      default:
        throw fail("attempt");
    }
  }

  async revoke(guideId: string, nowMs: number): Promise<StoredToken | undefined> {
    const reply = await this.#eval("revoke", SCRIPTS.revoke, [this.#key("t", guideId)], [String(nowMs)]);
    if (reply === null || reply === undefined) return undefined;
    const token = Array.isArray(reply) ? parseToken(reply[0], reply[1], reply[2]) : undefined;
    if (!token) throw fail("revoke");
    return token;
  }

  async get(guideId: string): Promise<StoredToken | undefined> {
    const reply = await this.#command("get", ["HMGET", this.#key("t", guideId), "d", "s", "a"]);
    if (!Array.isArray(reply)) throw fail("get");
    if (reply[0] === null || reply[0] === undefined) return undefined;
    const token = parseToken(reply[0], reply[1], reply[2]);
    if (!token) throw fail("get");
    return token;
  }

  async increment(key: string, windowMs: number, nowMs: number): Promise<CounterState> {
    const reply = await this.#eval(
      "increment",
      SCRIPTS.increment,
      [this.#key("c", key)],
      [String(windowMs), String(nowMs)],
    );
    if (!Array.isArray(reply)) throw fail("increment");
    return { count: Number(reply[0]), resetAtMs: Number(reply[1]) };
  }

  async decrement(key: string, nowMs: number): Promise<CounterState> {
    const reply = await this.#eval("decrement", SCRIPTS.decrement, [this.#key("c", key)], [String(nowMs)]);
    if (!Array.isArray(reply)) throw fail("decrement");
    return { count: Number(reply[0]), resetAtMs: Number(reply[1]) };
  }

  async peek(key: string, nowMs: number): Promise<CounterState> {
    const reply = await this.#command("peek", ["HMGET", this.#key("c", key), "count", "resetAtMs"]);
    if (!Array.isArray(reply)) throw fail("peek");
    const [count, resetAtMs] = reply as unknown[];
    if (count === null || count === undefined || resetAtMs === null || resetAtMs === undefined) {
      return { count: 0, resetAtMs: 0 };
    }
    const reset = Number(resetAtMs);
    return reset > nowMs ? { count: Number(count), resetAtMs: reset } : { count: 0, resetAtMs: 0 };
  }

  async claimOnce(key: string, expiresAtMs: number, nowMs: number): Promise<boolean> {
    const reply = await this.#eval(
      "claimOnce",
      SCRIPTS.claim,
      [this.#key("o", key)],
      [String(expiresAtMs), String(nowMs)],
    );
    return Number(reply) === 1;
  }

  async putAppSecret(record: AppSecretRecord): Promise<void> {
    // HSET of all four fields replaces the record in one command
    await this.#command("putAppSecret", [
      "HSET",
      this.#key("s", record.beneficiaryId),
      "beneficiaryId",
      record.beneficiaryId,
      "keyId",
      record.keyId,
      "ciphertext",
      record.ciphertext,
      "createdAtMs",
      String(record.createdAtMs),
    ]);
  }

  async getAppSecret(beneficiaryId: string): Promise<AppSecretRecord | undefined> {
    const pairs = toPairs(await this.#command("getAppSecret", ["HGETALL", this.#key("s", beneficiaryId)]));
    if (!pairs) return undefined;
    const keyId = pairs.get("keyId");
    const ciphertext = pairs.get("ciphertext");
    const createdAtMs = pairs.get("createdAtMs");
    if (keyId === undefined || ciphertext === undefined || createdAtMs === undefined)
      throw fail("getAppSecret");
    return { beneficiaryId, keyId, ciphertext, createdAtMs: Number(createdAtMs) };
  }

  async appendEvent(event: TokenEvent): Promise<void> {
    await this.#eval(
      "appendEvent",
      SCRIPTS.append,
      [this.#key("ez", event.beneficiaryId), this.#key("eh", event.beneficiaryId)],
      [
        event.id,
        String(event.atMs),
        JSON.stringify(event),
        String(this.#maxEvents),
        String(this.#eventRetentionMs),
      ],
    );
  }

  async listEvents(beneficiaryId: string, options: ListEventsOptions): Promise<TokenEvent[]> {
    const limit = Math.min(1000, Math.max(1, Math.floor(options.limit)));
    const reply = await this.#eval(
      "listEvents",
      SCRIPTS.list,
      [this.#key("ez", beneficiaryId), this.#key("eh", beneficiaryId)],
      [String(limit), options.before === undefined ? "0" : "1", options.before ?? ""],
    );
    if (!Array.isArray(reply)) throw fail("listEvents");
    try {
      return reply.filter((r) => typeof r === "string").map((r) => JSON.parse(r) as TokenEvent);
    } catch (error) {
      throw fail("listEvents", error);
    }
  }

  /**
   * Removes tokens expired at `nowMs`, counters and claims past their window, and events past retention.
   *
   * TTLs already remove what is past its time; this sweep (a `SCAN` over the prefix, then one script per key)
   * serves callers whose clock is ahead of Redis' and tests with a fake clock. On a cluster client it `SCAN`s
   * every master (ioredis `nodes("master")`, node-redis `masters`); the per-key scripts go to the key's slot.
   */
  async purge(nowMs: number): Promise<PurgeResult> {
    const now = String(nowMs);
    let tokens = 0;
    let events = 0;
    await this.#sweep("t", async (key) => {
      const removed = Number(await this.#eval("purge", SCRIPTS.purgeToken, [key], [now]));
      tokens += removed;
    });
    await this.#sweep("c", async (key) => {
      await this.#eval("purge", SCRIPTS.purgeCounter, [key], [now]);
    });
    await this.#sweep("o", async (key) => {
      await this.#eval("purge", SCRIPTS.purgeClaim, [key], [now]);
    });
    const cutoff = String(nowMs - this.#eventRetentionMs);
    await this.#sweep("ez", async (key) => {
      const hash = `${this.#prefix}:eh:${key.slice(`${this.#prefix}:ez:`.length)}`;
      const removed = Number(
        await this.#eval("purge", SCRIPTS.purgeEvents, [key, hash], [cutoff, String(this.#maxEvents)]),
      );
      events += removed;
    });
    return { tokens, events };
  }

  async #sweep(kind: Kind, each: (key: string) => Promise<void>): Promise<void> {
    let nodes: Array<(args: string[]) => Promise<unknown>>;
    try {
      nodes = await this.#masters();
    } catch (error) {
      throw fail("purge", error);
    }
    if (nodes.length === 0) throw fail("purge", new Error("the cluster client knows no master"));
    for (const scan of nodes) {
      let cursor = "0";
      do {
        let reply: unknown;
        try {
          reply = await scan(["SCAN", cursor, "MATCH", `${this.#prefix}:${kind}:{*`, "COUNT", "500"]);
        } catch (error) {
          throw fail("purge", error);
        }
        if (!Array.isArray(reply) || !Array.isArray(reply[1])) throw fail("purge");
        cursor = String(reply[0]);
        await Promise.all((reply[1] as unknown[]).map((k) => each(String(k))));
      } while (cursor !== "0");
    }
  }
}

function positiveInt(value: number | undefined, fallback: number, name: string, allowZero = false): number {
  if (value === undefined) return fallback;
  if (!Number.isSafeInteger(value) || value < (allowZero ? 0 : 1)) {
    throw new ConfigError(`${name} must be a ${allowZero ? "non-negative" : "positive"} integer`, {
      scope: "redis",
    });
  }
  return value;
}

const STATUSES: readonly string[] = ["active", "consumed", "revoked", "locked"];

/** The immutable fields of a token, stored as a JSON array in field `d` (compact: it is read on every attempt). */
type TokenData = [
  tokenId: string,
  guideId: string,
  providerId: string,
  beneficiaryId: string,
  codeHash: string,
  issuedAtMs: number,
  expiresAtMs: number,
  maxAttempts: number,
  channel: Channel,
];

function parseToken(data: unknown, status: unknown, attempts: unknown): StoredToken | undefined {
  if (typeof data !== "string" || typeof status !== "string" || !STATUSES.includes(status)) return undefined;
  let d: TokenData;
  try {
    d = JSON.parse(data) as TokenData;
  } catch {
    return undefined;
  }
  if (!Array.isArray(d) || d.length !== 9) return undefined;
  return {
    tokenId: d[0],
    guideId: d[1],
    providerId: d[2],
    beneficiaryId: d[3],
    codeHash: d[4],
    issuedAtMs: d[5],
    expiresAtMs: d[6],
    maxAttempts: d[7],
    attempts: Number(attempts),
    status: status as TokenStatus,
    channel: d[8],
  };
}
