/**
 * `health-token/redis`: a {@link TokenStore} on Redis (6.2+, standalone or Cluster), for many backend
 * instances sharing one token state.
 *
 * Every fine-grained operation is one round trip: a Lua script sent with `EVALSHA` (falling back to `EVAL`
 * once when the server answers `NOSCRIPT`, after a restart or a failover) or a single command. The keys one
 * script touches share a hash tag (`{…}`), so the scripts run unchanged on Redis Cluster. Identifiers are
 * base64url-encoded inside the tag, so quotes, colons, braces and unicode in ids cannot break out of it.
 *
 * The store also has the four intent-level steps of the port (`issueStep`, `verifyStep`, `appVerifyBegin`,
 * `appVerifyFinish`), each atomic with its events. Sequential round trips, counted on the driver (commands sent
 * side by side count once; the commands in brackets where they differ):
 *
 * | call of the service                      | before (composed) | standalone | Cluster |
 * | ---------------------------------------- | ----------------- | ---------- | ------- |
 * | `issue`, until the first delivery try    | 6 (8)             | 1          | 2 (4)   |
 * | `verify`: ok, consumed, expired, …       | 2                 | 1          | 2       |
 * | `verify`: mismatch                       | 3                 | 1          | 2       |
 * | `verify`: wrong_provider                 | 3                 | 1          | 3       |
 * | `verifyAppCode` (begin, then finish)     | 4–6               | 2          | 2       |
 *
 * On a standalone server one script does all of a step: the verify script finds the beneficiary's failures
 * and event keys from the token (field `b`, its beneficiary's tag, written at save time). On a Cluster a
 * script reaches one slot: an issue reads the beneficiary's lockout (its slot) beside the guide's limits and
 * live token (the guide's slot), then saves on the condition that the save supersedes that token, beside the
 * events built from it (the beneficiary's slot; a guardian's copy in the guardian's), which are taken back
 * when the save does not happen (see `_redis-issue.ts`); a verify runs the attempt (the guide's slot), then
 * the failure hit and the events (the beneficiary's slot), and a `wrong_provider` also hits the provider's
 * counter (its own slot) in between. Each script is atomic; across slots, a connection lost between two
 * scripts leaves the first one's change without the second's (the token is consumed or counted, its event
 * is missing). The app steps are one script on a Cluster too: all their keys are the beneficiary's.
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

import { argOptions } from "../_internal/args.js";
import { ConfigError, StoreUnavailableError } from "../errors.js";
import type { TokenEvent } from "../ports/events.js";
import type {
  AppSecretRecord,
  AttemptInput,
  AttemptResult,
  CounterState,
  ListEventsOptions,
  NewToken,
  PurgeResult,
  StoredToken,
  TokenStore,
} from "../ports/store.js";
import type {
  AppVerifyBeginInput,
  AppVerifyBeginResult,
  AppVerifyFinishInput,
  AppVerifyFinishResult,
  IssueStepInput,
  IssueStepResult,
  TokenStoreSteps,
  VerifyStepInput,
  VerifyStepResult,
} from "../ports/store-steps.js";
import { issueStep } from "./_redis-issue.js";
import { ownedKey, tagOf } from "./_redis-keys.js";
import { SCRIPTS, type Script, verifyScript } from "./_redis-scripts.js";
import * as steps from "./_redis-steps.js";
import { parseToken, tokenValues } from "./_redis-token.js";

/**
 * An ioredis client (`Redis` or `Cluster`): anything with `call(command, ...args)`.
 *
 * @example
 * ```ts
 * import Redis from "ioredis";
 * const client: IoRedisLikeClient = new Redis(process.env.REDIS_URL!); // or a Redis.Cluster
 * const store = new RedisTokenStore({ client });
 * ```
 */
export interface IoRedisLikeClient {
  /** Sends one command and resolves with its raw reply. */
  call(command: string, ...args: string[]): Promise<unknown>;
}

/**
 * A node-redis (v4, v5) client: anything with `sendCommand([command, ...args])`.
 *
 * @example
 * ```ts
 * import { createClient } from "redis";
 * const client: NodeRedisLikeClient = await createClient({ url: process.env.REDIS_URL! }).connect();
 * const store = new RedisTokenStore({ client });
 * ```
 */
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
  readonly prefix?: string | undefined;
  /**
   * How long events are kept (ms). Default 365 days. Older events are trimmed at each append and by `purge`; a
   * beneficiary's log expires at least this long after its newest event and at most an hour (or this, when
   * shorter) later, so that most appends need not set its TTL.
   */
  readonly eventRetentionMs?: number | undefined;
  /** At most this many events per beneficiary; the oldest are dropped. Default 1,000. */
  readonly maxEventsPerBeneficiary?: number | undefined;
  /**
   * How long a token's record outlives its expiry (ms), so late attempts answer `expired` or `consumed`
   * rather than `not_found`. The key's TTL is `expiresAtMs - issuedAtMs + tokenRetentionMs`. Default 24 h.
   */
  readonly tokenRetentionMs?: number | undefined;
}

const DAY_MS = 86_400_000;
/** The most counter keys shared by many calls (a provider's) whose Redis names a store keeps ready. */
const SHARED_KEYS_MAX = 256;
const PREFIX_RE = /^[A-Za-z0-9_.:-]{1,128}$/;

type Kind = "t" | "s" | "ez" | "eh";

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
 * - `<prefix>:t:{<guideId>}`: hash, the guide's latest token (its immutable fields as JSON, status, attempts,
 *   its beneficiary's tag); TTL `expiresAtMs - issuedAtMs + tokenRetentionMs`;
 * - `<prefix>:c:{<owner>}:<family>[:…]`: hash `count`, `resetAtMs`, a counter of `rateLimitKeys`, tagged by the
 *   id that owns it: a guide's cooldown (`cd`) and sends (`sg`) share its token's slot; a beneficiary's failures
 *   (`bf`) and app attempts on a guide (`aa:<guide>`) share its events' slot; a provider's failures (`pf`) are
 *   its own; TTL until the window ends. A key of any other shape is `<prefix>:c:{<key>}`;
 * - `<prefix>:o:{<beneficiaryId>}:totp:<step>` (or `<prefix>:o:{<key>}` for other keys): string `expiresAtMs`
 *   (TOTP step claims); TTL until it expires;
 * - `<prefix>:s:{<beneficiaryId>}`: hash, the encrypted app secret (no TTL);
 * - `<prefix>:ez:{<beneficiaryId>}` and `<prefix>:eh:{<beneficiaryId>}`: the event log, a sorted set of
 *   sequence numbers scored by `atMs` and a hash of the events' JSON (with the last sequence number, the oldest
 *   `atMs` and the `atMs` until which the TTL holds, so an append reads, trims and sets the TTL in few commands);
 *   bounded by count and retention; TTL the retention past the newest event, plus a slack of up to an hour
 *   (see `eventRetentionMs`).
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
export class RedisTokenStore implements TokenStore, TokenStoreSteps {
  readonly #send: Send;
  /** One `Send` per node to `SCAN`: the server itself, or every master of a cluster. */
  readonly #masters: () => Promise<Array<(args: string[]) => Promise<unknown>>>;
  readonly #prefix: string;
  readonly #eventRetentionMs: number;
  readonly #maxEvents: number;
  readonly #tokenRetentionMs: number;
  readonly #steps: steps.RedisStepHost;

  /** @param options - the client and the key layout; see {@link RedisTokenStoreOptions} */
  constructor(options: RedisTokenStoreOptions) {
    argOptions(options, "RedisTokenStore", "redis");
    const client = options.client as
      | Partial<IoRedisClusterLike & NodeRedisLikeClient & Omit<NodeRedisClusterLike, "sendCommand">>
      | undefined;
    let split = false;
    // `call(command, ...args)` with the array as it is (no slice or spread: this runs on every command)
    const ioSend = (c: IoRedisLikeClient) => (args: string[]) =>
      Reflect.apply(c.call, c, args) as Promise<unknown>;
    if (client && typeof client.call === "function") {
      // ioredis (server or Cluster): the driver finds the keys of each command, EVALSHA included
      this.#send = ioSend(client as IoRedisLikeClient);
      const cluster = client as Partial<IoRedisClusterLike>;
      split = typeof cluster.nodes === "function";
      this.#masters =
        typeof cluster.nodes === "function"
          ? async () => (cluster as IoRedisClusterLike).nodes("master").map(ioSend)
          : async () => [ioSend(client as IoRedisLikeClient)];
    } else if (client && typeof client.sendCommand === "function" && Array.isArray(client.masters)) {
      // node-redis cluster: routed by the key we name
      const c = client as unknown as NodeRedisClusterLike;
      split = true;
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
    const sharedKeys = new Map<string, string>();
    this.#steps = {
      split,
      prefix,
      maxEvents: this.#maxEvents,
      eventRetentionMs: this.#eventRetentionMs,
      tokenRetentionMs: this.#tokenRetentionMs,
      verifyScript: verifyScript(prefix, this.#maxEvents, this.#eventRetentionMs),
      eval: (op, s, keys, args) => this.#eval(op, s, keys, args),
      send: (command, key) => this.#send(command, key),
      recover: (op, s, command, key, error) => this.#recover(op, s, command, key, error),
      key: (kind, id) => this.#key(kind, id),
      owned: (kind, key) => ownedKey(prefix, kind, key),
      ownedShared: (key) => {
        let owned = sharedKeys.get(key);
        if (owned === undefined) {
          if (sharedKeys.size >= SHARED_KEYS_MAX) sharedKeys.clear();
          owned = ownedKey(prefix, "c", key);
          sharedKeys.set(key, owned);
        }
        return owned;
      },
      store: this,
    };
  }

  /** The limits of an issue, the save that supersedes and the issue's events (see the round trips above). */
  issueStep(input: IssueStepInput): Promise<IssueStepResult> {
    return issueStep(this.#steps, input);
  }

  /** The attempt, the failure counters, the lock and the events of a verification (see the round trips above). */
  verifyStep(input: VerifyStepInput): Promise<VerifyStepResult> {
    return steps.verifyStep(this.#steps, input);
  }

  /** The app-mode reservation, the guide's app attempts and the secret: one script. */
  appVerifyBegin(input: AppVerifyBeginInput): Promise<AppVerifyBeginResult> {
    return steps.appVerifyBegin(this.#steps, input);
  }

  /** The settlement of an app-mode reservation, the step's claim and the events: one script. */
  appVerifyFinish(input: AppVerifyFinishInput): Promise<AppVerifyFinishResult> {
    return steps.appVerifyFinish(this.#steps, input);
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
    const command = ["EVALSHA", s.sha, String(keys.length), ...keys, ...args];
    let first: Promise<unknown>;
    try {
      first = this.#send(command, keys[0]);
    } catch (error) {
      return Promise.reject(fail(op, error));
    }
    return first.catch((error: unknown) => this.#recover(op, s, command, keys[0], error));
  }

  /** After `command` (an `EVALSHA` of `s`) failed with `error`: `EVAL` once on `NOSCRIPT`, else the failure. */
  #recover(
    op: string,
    s: Script,
    command: string[],
    key: string | undefined,
    error: unknown,
  ): Promise<unknown> {
    if (!isNoScript(error)) return Promise.reject(fail(op, error));
    const retry = command.slice();
    retry[0] = "EVAL";
    retry[1] = s.source;
    let again: Promise<unknown>;
    try {
      again = this.#send(retry, key);
    } catch (error2) {
      return Promise.reject(fail(op, error2));
    }
    return again.catch((error2: unknown) => {
      throw fail(op, error2);
    });
  }

  async save(token: NewToken): Promise<{ superseded: string[] }> {
    const ttlMs = Math.max(1, Math.ceil(token.expiresAtMs - token.issuedAtMs + this.#tokenRetentionMs));
    const reply = await this.#eval(
      "save",
      SCRIPTS.save,
      [this.#key("t", token.guideId)],
      [String(ttlMs), String(token.issuedAtMs), ...tokenValues(token)],
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
    return steps.attemptOf("attempt", reply);
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
      [ownedKey(this.#prefix, "c", key)],
      [String(windowMs), String(nowMs)],
    );
    if (!Array.isArray(reply)) throw fail("increment");
    return { count: Number(reply[0]), resetAtMs: Number(reply[1]) };
  }

  async decrement(key: string, nowMs: number): Promise<CounterState> {
    const reply = await this.#eval(
      "decrement",
      SCRIPTS.decrement,
      [ownedKey(this.#prefix, "c", key)],
      [String(nowMs)],
    );
    if (!Array.isArray(reply)) throw fail("decrement");
    return { count: Number(reply[0]), resetAtMs: Number(reply[1]) };
  }

  async peek(key: string, nowMs: number): Promise<CounterState> {
    const reply = await this.#command("peek", [
      "HMGET",
      ownedKey(this.#prefix, "c", key),
      "count",
      "resetAtMs",
    ]);
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
      [ownedKey(this.#prefix, "o", key)],
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

  async #sweep(kind: Kind | "c" | "o", each: (key: string) => Promise<void>): Promise<void> {
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
