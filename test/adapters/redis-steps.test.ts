/**
 * RedisTokenStore's intent-level steps on a standalone server and on the Redis Cluster, with both drivers:
 * the round trips of the service's `issue` (until the first delivery try) and `verify`, counted on the driver;
 * the same outcomes, counters and event log (byte for byte) as the composition of the fine-grained methods;
 * exactly one ok of many concurrent verifications; a refused issue changes nothing; a killed connection
 * leaves a state change and its events together or neither; SCRIPT FLUSH; tokens saved without the
 * beneficiary's tag (by an older version).
 */
import Redis from "ioredis";
import * as OTPAuth from "otpauth";
import { createClient } from "redis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ownedKey, slotTag, tagOf } from "../../src/adapters/_redis-keys.js";
import { SCRIPTS, verifyScript } from "../../src/adapters/_redis-scripts.js";
import { type RedisClientLike, RedisTokenStore } from "../../src/adapters/redis.js";
import { rateLimitKeys } from "../../src/policy/rate-limit.js";
import type { TokenEvent } from "../../src/ports/events.js";
import type { Notifier } from "../../src/ports/notifier.js";
import type { IssueStepInput } from "../../src/ports/store-steps.js";
import {
  runAppVerifyBegin,
  runAppVerifyFinish,
  runIssueStep,
  runVerifyStep,
  type SteppingStore,
} from "../../src/service/_steps.js";
import { createTokenService } from "../../src/service/token-service.js";
import { withoutSteps } from "../../src/testing/_step-conformance.js";
import { FakeClock, OutboxNotifier } from "../../src/testing/fakes.js";
import {
  type ClusterClient,
  clusterKeys,
  ioredisCluster,
  nodeRedisCluster,
} from "../helpers/redis-cluster.js";
import {
  describeWithService,
  type Probe,
  probeRedis,
  probeRedisCluster,
  REDIS_URL,
  uniqueName,
} from "../helpers/services.js";
import { adult, PEPPER, T0, testKey } from "../unit/service/helpers.js";

const MIN = 60_000;
const DAY = 86_400_000;

type NodeSend = (args: string[]) => Promise<unknown>;

/**
 * The sequential round trips among the commands a client is handed: a command that starts while none is in
 * flight starts a new one; commands sent side by side count once.
 */
class Trips {
  n = 0;
  #inFlight = 0;

  track<T>(reply: Promise<T>): Promise<T> {
    if (this.#inFlight++ === 0) this.n++;
    const end = () => {
      this.#inFlight--;
    };
    reply.then(end, end);
    return reply;
  }
}

/** A client whose every command is counted, the masters to inspect, and a routed raw command. */
interface Deployment {
  readonly client: RedisClientLike;
  readonly calls: string[][];
  readonly trips: Trips;
  /** One raw command routed by `key`. */
  send(args: string[], key: string): Promise<unknown>;
  masters(): Promise<NodeSend[]>;
  close(): Promise<void>;
}

async function ioredisStandalone(): Promise<Deployment> {
  const raw = new Redis(REDIS_URL, { maxRetriesPerRequest: 1 });
  const calls: string[][] = [];
  const trips = new Trips();
  const send: NodeSend = (a) => raw.call(a[0]!, ...a.slice(1));
  return {
    client: {
      call: (command: string, ...args: string[]) => {
        calls.push([command, ...args]);
        return trips.track(raw.call(command, ...args));
      },
    },
    calls,
    trips,
    send,
    masters: async () => [send],
    close: async () => raw.disconnect(),
  };
}

async function nodeRedisStandalone(): Promise<Deployment> {
  const raw = createClient({ url: REDIS_URL });
  await raw.connect();
  const calls: string[][] = [];
  const trips = new Trips();
  const send: NodeSend = (a) => raw.sendCommand(a);
  return {
    client: {
      sendCommand: (args: string[]) => {
        calls.push(args);
        return trips.track(raw.sendCommand(args));
      },
    },
    calls,
    trips,
    send,
    masters: async () => [send],
    close: async () => {
      await raw.quit();
    },
  };
}

function onCluster(open: () => Promise<ClusterClient>): () => Promise<Deployment> {
  return async () => {
    const cluster = await open();
    const calls: string[][] = [];
    const trips = new Trips();
    const c = cluster.client;
    if ("nodes" in c) {
      return {
        client: {
          call: (command: string, ...args: string[]) => {
            calls.push([command, ...args]);
            return trips.track(c.call(command, ...args));
          },
          nodes: (role: "master") => c.nodes(role),
        },
        calls,
        trips,
        send: (a) => c.call(a[0]!, ...a.slice(1)),
        masters: () => cluster.masters(),
        close: () => cluster.close(),
      };
    }
    return {
      client: {
        sendCommand: (key: string | undefined, readonly: boolean | undefined, args: string[]) => {
          calls.push(args);
          return trips.track(c.sendCommand(key, readonly, args));
        },
        get masters() {
          return c.masters;
        },
        nodeClient: (node: never) => c.nodeClient(node),
      },
      calls,
      trips,
      send: (a, key) => c.sendCommand(key, false, a),
      masters: () => cluster.masters(),
      close: () => cluster.close(),
    };
  };
}

/** Every key under `prefix` on every node, with its content: a snapshot of the whole store. */
async function dump(masters: NodeSend[], prefix: string): Promise<Record<string, unknown>> {
  const perNode = await clusterKeys(masters, prefix);
  const out: Record<string, unknown> = {};
  for (const [i, keys] of perNode.entries()) {
    const send = masters[i]!;
    for (const key of keys) {
      const type = String(await send(["TYPE", key]));
      if (type === "hash") {
        // a hash's field order is not part of its state (a large one is a hash table, reordered by rehashing)
        const flat = (await send(["HGETALL", key])) as string[];
        const pairs: [string, string][] = [];
        for (let i = 0; i + 1 < flat.length; i += 2) pairs.push([flat[i]!, flat[i + 1]!]);
        out[key] = Object.fromEntries(pairs.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
      } else if (type === "zset") out[key] = await send(["ZRANGE", key, "0", "-1", "WITHSCORES"]);
      else out[key] = await send(["GET", key]);
    }
  }
  return out;
}

/** A beneficiary's event log as stored: the raw JSON texts, oldest first. */
async function rawEvents(d: Deployment, prefix: string, beneficiaryId: string): Promise<string[]> {
  const z = `${prefix}:ez:{${tagOf(beneficiaryId)}}`;
  const h = `${prefix}:eh:{${tagOf(beneficiaryId)}}`;
  const members = (await d.send(["ZRANGE", z, "0", "-1"], z)) as string[];
  const out: string[] = [];
  for (const m of members) out.push(String(await d.send(["HGET", h, `e:${m}`], h)));
  return out;
}

const G = "guide-eq";
const B = 'ben-eq "quoted" ção/{x}';
const GUARDIAN = "guardian-eq";
const P = "prov-eq";
const OTHER = "prov-other";

/**
 * A scripted run of every step and outcome on `store` (the same ids on every run): issue, cooldown, a
 * supersede, a late superseded code, wrong codes, a wrong provider, the lock, a new token, ok, consumed,
 * expired, revoked, not_found, the beneficiary's lockout, the guide's sends, and app mode (compare, mismatch,
 * match, replay, the guide's attempts, the budget, no secret). Returns every result and the state after.
 */
async function scenario(store: SteppingStore): Promise<unknown[]> {
  const log: unknown[] = [];
  let n = 0;
  const id = (label: string) => `${label}-${n++}`;
  const issue = (
    tokenId: string,
    at: number,
    over: { guideId?: string; beneficiaryId?: string; sendsMax?: number; ttlMs?: number } = {},
  ) => {
    const guideId = over.guideId ?? G;
    const beneficiaryId = over.beneficiaryId ?? B;
    const base = { beneficiaryId, guideId, providerId: P } as const;
    const issued: TokenEvent = {
      id: id("is"),
      atMs: at,
      ...base,
      type: "token.issued",
      tokenId,
      recipient: "guardian",
    };
    const input: IssueStepInput = {
      token: {
        tokenId,
        guideId,
        providerId: P,
        beneficiaryId,
        codeHash: `h1:${tokenId}`,
        issuedAtMs: at,
        expiresAtMs: at + (over.ttlMs ?? 10 * MIN),
        maxAttempts: 4,
        channel: "sms",
      },
      failures: { key: rateLimitKeys.failures(beneficiaryId), max: 4, windowMs: DAY },
      cooldown: { key: rateLimitKeys.cooldown(guideId), max: 1, windowMs: MIN },
      sends: { key: rateLimitKeys.sends(guideId), max: over.sendsMax ?? 10, windowMs: DAY },
      revokedEvent: { id: id("rv"), atMs: at, ...base, type: "token.revoked", reason: "superseded" },
      issuedEvents: [
        issued,
        { ...issued, id: id("cp"), beneficiaryId: GUARDIAN, dependentId: beneficiaryId },
        {
          id: id("ds"),
          atMs: at,
          ...base,
          type: "token.delivery_started",
          tokenId,
          deliveryId: id("dl"),
          mode: "foreground",
          deadlineAtMs: at + 30_000,
        },
      ],
    };
    return runIssueStep(store, input);
  };
  const verify = (candidate: string, at: number, providerId = P, guideId = G) =>
    runVerifyStep(store, {
      guideId,
      providerId,
      candidateHash: `h1:${candidate}`,
      nowMs: at,
      failureWindowMs: DAY,
      providerFailures: { key: rateLimitKeys.providerFailures(providerId), windowMs: DAY },
      eventIds: [id("v"), id("lk")],
    });
  const step = async (name: string, run: () => Promise<unknown>) => log.push([name, await run()]);

  await step("issue t1", () => issue("t1", T0));
  await step("cooldown", () => issue("t2", T0 + 1000));
  await step("issue t2 supersedes t1", () => issue("t2", T0 + 2 * MIN));
  await step("late t1", () => verify("t1", T0 + 3 * MIN));
  await step("wrong 1", () => verify("bad", T0 + 3 * MIN));
  await step("wrong 2", () => verify("bad", T0 + 3 * MIN + 1));
  await step("wrong provider", () => verify("t2", T0 + 3 * MIN + 2, OTHER));
  await step("wrong 3 locks", () => verify("bad", T0 + 3 * MIN + 3));
  await step("locked", () => verify("t2", T0 + 3 * MIN + 4));
  await step("issue t3", () => issue("t3", T0 + 5 * MIN));
  await step("ok", () => verify("t3", T0 + 5 * MIN + 1));
  await step("consumed", () => verify("t3", T0 + 5 * MIN + 2));
  await step("issue t4", () => issue("t4", T0 + 7 * MIN, { ttlMs: 1000 }));
  await step("expired", () => verify("t4", T0 + 8 * MIN));
  await step("issue t5", () => issue("t5", T0 + 9 * MIN));
  await step("revoke", () => store.revoke(G, T0 + 9 * MIN + 1));
  await step("revoked", () => verify("t5", T0 + 9 * MIN + 2));
  await step("not found", () => verify("t5", T0 + 9 * MIN + 3, P, "guide-none"));
  await step("issue t6", () => issue("t6", T0 + 11 * MIN));
  await step("wrong 4: the budget is spent", () => verify("bad", T0 + 11 * MIN + 1));
  await step("locked out", () => issue("t7", T0 + 13 * MIN));
  const G2 = "guide-sends";
  await step("sends 1", () => issue("s1", T0, { guideId: G2, beneficiaryId: "ben-s", sendsMax: 1 }));
  await step("sends refused", () =>
    issue("s2", T0 + 2 * MIN, { guideId: G2, beneficiaryId: "ben-s", sendsMax: 1 }),
  );

  // app mode
  const A = "ben-app";
  await store.putAppSecret({ beneficiaryId: A, keyId: "k1", ciphertext: "c1", createdAtMs: T0 });
  const event = (at: number, fields: Omit<TokenEvent, "id" | "atMs" | "beneficiaryId">): TokenEvent => ({
    id: id("ap"),
    atMs: at,
    beneficiaryId: A,
    providerId: P,
    ...fields,
  });
  const begin = (guideId: string, at: number, beneficiaryId = A, failuresMax = 4) =>
    runAppVerifyBegin(store, {
      beneficiaryId,
      nowMs: at,
      failures: { key: rateLimitKeys.failures(beneficiaryId), max: failuresMax, windowMs: DAY },
      attempts: { key: rateLimitKeys.appAttempts(guideId, beneficiaryId), max: 2, windowMs: 10 * MIN },
      lockedEvent: { ...event(at, { guideId, type: "token.rejected", reason: "locked" }), beneficiaryId },
    });
  const mismatch = (guideId: string, at: number) =>
    runAppVerifyFinish(store, {
      matched: false,
      nowMs: at,
      failuresKey: rateLimitKeys.failures(A),
      events: [
        event(at, { guideId, type: "token.rejected", reason: "mismatch", attemptsLeft: 0 }),
        event(at, { guideId, type: "token.locked", reason: "mismatch" }),
      ],
    });
  const matched = (guideId: string, at: number, stepNo: number) =>
    runAppVerifyFinish(store, {
      matched: true,
      nowMs: at,
      failuresKey: rateLimitKeys.failures(A),
      claim: { key: rateLimitKeys.totpStep(A, stepNo), expiresAtMs: at + 90_000 },
      verifiedEvent: event(at, { guideId, type: "token.verified", tokenId: `totp-${stepNo}` }),
      replayedEvent: event(at, {
        guideId,
        type: "token.rejected",
        tokenId: `totp-${stepNo}`,
        reason: "consumed",
      }),
    });
  await step("app begin", () => begin("ga", T0));
  await step("app mismatch", () => mismatch("ga", T0));
  await step("app begin 2", () => begin("gb", T0 + 1));
  await step("app match", () => matched("gb", T0 + 1, 7));
  await step("app begin 3", () => begin("gc", T0 + 2));
  await step("app replay", () => matched("gc", T0 + 2, 7));
  await step("app ga again", () => begin("ga", T0 + 3));
  await step("app ga: its attempts are spent", () => begin("ga", T0 + 4));
  await step("app no secret", () => begin("gz", T0 + 5, "ben-nosecret"));
  await step("app budget spent", () => begin("gd", T0 + 6, A, 1));

  const at = T0 + 20 * MIN;
  const counters = [
    rateLimitKeys.failures(B),
    rateLimitKeys.failures("ben-s"),
    rateLimitKeys.failures(A),
    rateLimitKeys.failures("ben-nosecret"),
    rateLimitKeys.cooldown(G),
    rateLimitKeys.sends(G),
    rateLimitKeys.sends(G2),
    rateLimitKeys.providerFailures(OTHER),
    rateLimitKeys.providerFailures(P),
    ...["ga", "gb", "gc", "gd", "gz"].map((g) => rateLimitKeys.appAttempts(g, A)),
  ];
  for (const key of counters) log.push([key, await store.peek(key, at)]);
  log.push(["claim 7 taken", await store.claimOnce(rateLimitKeys.totpStep(A, 7), at + MIN, at)]);
  for (const g of [G, G2]) log.push([g, await store.get(g)]);
  for (const b of [B, GUARDIAN, "ben-s", A, "ben-nosecret"]) {
    log.push([b, await store.listEvents(b, { limit: 1000 })]);
  }
  return log;
}

describe("Redis key tags of counters and claims", () => {
  const ids = ["g-1", 'ç {x} "q" 😀', "a%41b", "x".repeat(128), "~tilde", ""];
  it("a rateLimitKeys key is in its owner's slot; any other key keeps its whole-key tag", () => {
    for (const id of ids) {
      const owner = tagOf(id);
      expect(slotTag(ownedKey("ht", "c", rateLimitKeys.cooldown(id)))).toBe(owner);
      expect(slotTag(ownedKey("ht", "c", rateLimitKeys.sends(id)))).toBe(owner);
      expect(slotTag(ownedKey("ht", "c", rateLimitKeys.failures(id)))).toBe(owner);
      expect(slotTag(ownedKey("ht", "c", rateLimitKeys.providerFailures(id)))).toBe(owner);
      expect(slotTag(ownedKey("ht", "c", rateLimitKeys.appAttempts("some guide", id)))).toBe(owner);
      expect(slotTag(ownedKey("ht", "o", rateLimitKeys.totpStep(id, 59_666_666)))).toBe(owner);
    }
    expect(ownedKey("ht", "c", "free key")).toBe(`ht:c:{${tagOf("free key")}}`);
  });
  it("only the exact encoding is decoded: two keys never meet as one", () => {
    const keys = [
      "rl:cd:a",
      "rl:cd:%61", // not what keyPart makes of "a"
      "rl:cd:%C3", // not UTF-8
      "rl:cd:%c3%a7", // lowercase hex: not keyPart's
      rateLimitKeys.cooldown("ç"),
      rateLimitKeys.sends("a"),
      rateLimitKeys.appAttempts("a", "b"),
      rateLimitKeys.appAttempts("b", "a"),
      "rl:aa:a",
      "rl:xx:a",
      rateLimitKeys.totpStep("a", 1),
      "totp:a:01",
      "totp:a:x",
      ...ids.map((id) => rateLimitKeys.failures(id)),
      ...ids,
    ];
    for (const kind of ["c", "o"] as const) {
      const mapped = keys.map((k) => ownedKey("ht", kind, k));
      expect(new Set(mapped).size).toBe(keys.length);
    }
    expect(ownedKey("ht", "c", "rl:cd:%61")).toBe(`ht:c:{${tagOf("rl:cd:%61")}}`);
  });
});

const deployments: {
  name: string;
  probe: Promise<Probe>;
  open: () => Promise<Deployment>;
  cluster: boolean;
}[] = [
  { name: "Redis (ioredis)", probe: probeRedis(), open: ioredisStandalone, cluster: false },
  { name: "Redis (node-redis)", probe: probeRedis(), open: nodeRedisStandalone, cluster: false },
  {
    name: "Redis Cluster (ioredis)",
    probe: probeRedisCluster(),
    open: onCluster(ioredisCluster),
    cluster: true,
  },
  {
    name: "Redis Cluster (node-redis)",
    probe: probeRedisCluster(),
    open: onCluster(nodeRedisCluster),
    cluster: true,
  },
];

for (const deployment of deployments) {
  describeWithService(await deployment.probe, `RedisTokenStore steps on ${deployment.name}`, () => {
    let d: Deployment;
    const prefixes: string[] = [];
    const open = (label: string, over: { maxEventsPerBeneficiary?: number } = {}) => {
      const prefix = uniqueName(label);
      prefixes.push(prefix);
      return { prefix, store: new RedisTokenStore({ client: d.client, prefix, ...over }) };
    };
    // a store's verify script (its prefix built in, the default cap and retention) cached on every node
    const loadVerify = async (prefix: string) => {
      const s = verifyScript(prefix, 1000, 365 * DAY);
      for (const send of await d.masters()) await send(["SCRIPT", "LOAD", s.source]);
    };
    beforeAll(async () => {
      d = await deployment.open();
      // every script cached on every node, so the counts below are the steady state (no NOSCRIPT retry)
      for (const send of await d.masters()) {
        for (const s of Object.values(SCRIPTS)) await send(["SCRIPT", "LOAD", s.source]);
      }
    });
    afterAll(async () => {
      const masters = await d.masters();
      for (const prefix of prefixes) {
        for (const send of masters) {
          for (const keys of await clusterKeys([send], prefix)) for (const k of keys) await send(["DEL", k]);
        }
      }
      await d.close();
    });

    it("the service's issue (until the first delivery try) and verify, in round trips counted on the driver", async () => {
      const { prefix, store } = open("trips");
      await loadVerify(prefix);
      const clock = new FakeClock(T0);
      const outbox = new OutboxNotifier();
      let beforeSend = "";
      // commands handed to the driver, then the sequential round trips among them
      const counted = () => `${d.calls.length} (${d.trips.n})`;
      const notifier: Notifier = {
        send: (message) => {
          beforeSend = counted();
          return outbox.send(message);
        },
      };
      const tokens = createTokenService({
        store,
        notifier,
        pepper: PEPPER,
        clock,
        secretsKey: testKey("redis-steps"),
      });
      const trips = async (run: () => Promise<unknown>) => {
        d.calls.length = 0;
        d.trips.n = 0;
        await run();
        return counted();
      };
      const who = (n: number) => ({
        guide: { id: `guide-trips-${n}`, providerId: "prov-1" },
        beneficiary: adult(`ben-trips-${n}`),
      });
      const measured: Record<string, string> = {};
      for (let n = 0; n < 3; n++) {
        d.calls.length = 0;
        d.trips.n = 0;
        beforeSend = "";
        await tokens.issue(who(n));
        measured.issue = beforeSend;
        const code = outbox.last()!.code;
        const guideId = who(n).guide.id;
        const wrong = code === "000000" ? "000001" : "000000";
        measured.mismatch = await trips(() => tokens.verify({ guideId, providerId: "prov-1", code: wrong }));
        measured.wrong_provider = await trips(() => tokens.verify({ guideId, providerId: "prov-2", code }));
        measured.ok = await trips(() => tokens.verify({ guideId, providerId: "prov-1", code }));
        measured.consumed = await trips(() => tokens.verify({ guideId, providerId: "prov-1", code }));
        const { secret } = await tokens.enrollApp({ id: `ben-app-${n}` });
        const totp = new OTPAuth.TOTP({ secret: OTPAuth.Secret.fromBase32(secret), digits: 6 });
        const appCode = totp.generate({ timestamp: clock.now() });
        const app = (code: string) =>
          tokens.verifyAppCode({ guideId, providerId: "prov-1", beneficiaryId: `ben-app-${n}`, code });
        const appWrong = ["000000", "111111", "222222", "333333"].find(
          (c) => totp.validate({ token: c, timestamp: clock.now(), window: 1 }) === null,
        )!;
        measured.app_mismatch = await trips(() => app(appWrong));
        measured.app_ok = await trips(() => app(appCode));
        measured.app_replay = await trips(() => app(appCode));
        clock.advance(MIN);
      }
      expect(measured).toEqual(
        deployment.cluster
          ? // issue: the lockout read (beneficiary's slot) beside the guide's checks, then the save beside the
            // events (beneficiary's slot); verify: the guide's slot then the beneficiary's; wrong_provider also
            // the provider's counter
            {
              issue: "4 (2)",
              mismatch: "2 (2)",
              wrong_provider: "3 (3)",
              ok: "2 (2)",
              consumed: "2 (2)",
              app_mismatch: "2 (2)",
              app_ok: "2 (2)",
              app_replay: "2 (2)",
            }
          : {
              issue: "1 (1)",
              mismatch: "1 (1)",
              wrong_provider: "1 (1)",
              ok: "1 (1)",
              consumed: "1 (1)",
              app_mismatch: "2 (2)",
              app_ok: "2 (2)",
              app_replay: "2 (2)",
            },
      );
    });

    it("gives the outcomes, counters and events (byte for byte) of the composed fine-grained methods", async () => {
      const stepped = open("stepped");
      const composed = open("composed");
      const withSteps = await scenario(stepped.store);
      const without = await scenario(withoutSteps(composed.store));
      expect(withSteps).toEqual(without);
      // the script really ran: the results hold what only these steps produce
      expect(JSON.stringify(withSteps)).toContain('"outcome":"locked_out"');
      expect(JSON.stringify(withSteps)).toContain('"providerFailures":1');
      for (const b of [B, GUARDIAN, "ben-s", "ben-app"]) {
        const a = await rawEvents(d, stepped.prefix, b);
        expect(a.length).toBeGreaterThan(0);
        expect(a).toEqual(await rawEvents(d, composed.prefix, b));
      }
    });

    it("steps given counter keys of other shapes (not in their owner's slot) agree with the composed form", async () => {
      const run = async (s: SteppingStore) => {
        const out: unknown[] = [];
        const issue = (tokenId: string, at: number) =>
          runIssueStep(s, {
            token: {
              tokenId,
              guideId: "any-g",
              providerId: P,
              beneficiaryId: "any-b",
              codeHash: `h1:${tokenId}`,
              issuedAtMs: at,
              expiresAtMs: at + 10 * MIN,
              maxAttempts: 3,
              channel: "sms",
            },
            failures: { key: "any failures {b}", max: 2, windowMs: DAY },
            cooldown: { key: "any:cooldown", max: 1, windowMs: MIN },
            sends: { key: "rl:sg:not%zzcanonical", max: 5, windowMs: DAY },
            revokedEvent: { id: `arv-${tokenId}`, atMs: at, beneficiaryId: "any-b", type: "token.revoked" },
            issuedEvents: [{ id: `ais-${tokenId}`, atMs: at, beneficiaryId: "any-b", type: "token.issued" }],
          });
        out.push(await issue("a1", T0), await issue("a2", T0 + 1), await issue("a2", T0 + 2 * MIN));
        await s.increment("any failures {b}", DAY, T0 + 3 * MIN);
        await s.increment("any failures {b}", DAY, T0 + 3 * MIN);
        out.push(await issue("a3", T0 + 4 * MIN));
        await s.putAppSecret({ beneficiaryId: "any-b", keyId: "k", ciphertext: "c", createdAtMs: T0 });
        const begin = (at: number) =>
          runAppVerifyBegin(s, {
            beneficiaryId: "any-b",
            nowMs: at,
            failures: { key: "app failures", max: 3, windowMs: DAY },
            attempts: { key: "app attempts", max: 5, windowMs: DAY },
            lockedEvent: {
              id: `alk-${at}`,
              atMs: at,
              beneficiaryId: "any-b",
              type: "token.rejected",
              reason: "locked",
            },
          });
        out.push(await begin(T0));
        out.push(
          await runAppVerifyFinish(s, {
            matched: true,
            nowMs: T0,
            failuresKey: "app failures",
            claim: { key: "any claim", expiresAtMs: T0 + MIN },
            verifiedEvent: { id: "av", atMs: T0, beneficiaryId: "any-b", type: "token.verified" },
            replayedEvent: {
              id: "ar",
              atMs: T0,
              beneficiaryId: "any-b",
              type: "token.rejected",
              reason: "consumed",
            },
          }),
        );
        for (let i = 0; i < 4; i++) out.push(await begin(T0 + 1 + i));
        for (const k of [
          "any failures {b}",
          "any:cooldown",
          "rl:sg:not%zzcanonical",
          "app failures",
          "app attempts",
        ])
          out.push(await s.peek(k, T0 + 5 * MIN));
        out.push(await s.get("any-g"), await s.listEvents("any-b", { limit: 100 }));
        return out;
      };
      const a = await run(open("anyk").store);
      expect(a).toEqual(await run(withoutSteps(open("anykc").store)));
      expect(JSON.stringify(a)).toContain('"outcome":"locked_out"');
    });

    it.each([
      ["a token saved now", false, false],
      ["a token saved before the event pieces (no 'j', 'k': read out of 'd')", true, false],
      ["ids and providers with nothing to escape (the script quotes them)", false, true],
      ["ids and providers with nothing to escape, a token without 'j', 'k'", true, true],
    ])(
      "the events a verify step builds in Lua read back exactly as verifyStepEvents makes them: %s",
      async (_, older, plain) => {
        const { prefix, store } = open("exact");
        const ben = 'b "q" \\ / ção {t}';
        const guide = 'g\u00e9 "x" / y';
        const provider = plain ? "p-z/\u00e7" : "p \\ z";
        const other = plain ? "other-p" : 'other "p"';
        await store.save({
          tokenId: 'tok "1" /',
          guideId: guide,
          providerId: provider,
          beneficiaryId: ben,
          codeHash: "h1:ok",
          issuedAtMs: T0,
          expiresAtMs: T0 + 10 * MIN,
          maxAttempts: 2,
          channel: "whatsapp",
        });
        if (older) {
          const t = `${prefix}:t:{${tagOf(guide)}}`;
          expect(await d.send(["HDEL", t, "j", "k"], t)).toBe(2);
        }
        const input = (candidateHash: string, providerId: string, i: number) => ({
          guideId: guide,
          providerId,
          candidateHash,
          nowMs: T0 + 123_457 + i,
          failureWindowMs: DAY,
          providerFailures: { key: rateLimitKeys.providerFailures(providerId), windowMs: DAY },
          eventIds: plain ? ([`e-${i}`, `l/${i}`] as const) : ([`e "${i}"`, `l/,${i}`] as const),
        });
        const a = await store.verifyStep(input("h1:bad", provider, 1));
        const b = await store.verifyStep(input("h1:ok", other, 2));
        const c = await store.verifyStep(input("h1:ok", provider, 3));
        const events = [...a.events, ...b.events, ...c.events];
        expect(events.map((e) => [e.type, e.reason, e.attemptsLeft, e.providerFailures])).toEqual([
          ["token.rejected", "mismatch", 1, undefined],
          ["token.rejected", "wrong_provider", 0, 1],
          ["token.locked", "wrong_provider", undefined, undefined],
          ["token.rejected", "locked", undefined, undefined],
        ]);
        expect(await rawEvents(d, prefix, ben)).toEqual(events.map((e) => JSON.stringify(e)));
        expect((await store.listEvents(ben, { limit: 10 })).reverse()).toEqual(events);
        expect(events[0]!.atMs).toBe(T0 + 123_458);
        expect((await store.peek(rateLimitKeys.failures(ben), T0 + MIN)).count).toBe(1);
      },
    );

    it("the event cap and the retention apply to a step's events as to appendEvent's", async () => {
      const stepped = open("cap", { maxEventsPerBeneficiary: 2 });
      const composed = open("capc", { maxEventsPerBeneficiary: 2 });
      const run = async (s: SteppingStore) => {
        const out: unknown[] = [];
        await s.save({
          tokenId: "cap-t",
          guideId: "cap-g",
          providerId: P,
          beneficiaryId: "cap-b",
          codeHash: "h1:cap",
          issuedAtMs: T0,
          expiresAtMs: T0 + 10 * MIN,
          maxAttempts: 9,
          channel: "sms",
        });
        for (let i = 0; i < 4; i++) {
          out.push(
            await runVerifyStep(s, {
              guideId: "cap-g",
              providerId: P,
              candidateHash: "h1:no",
              nowMs: T0 + i,
              failureWindowMs: DAY,
              providerFailures: { key: rateLimitKeys.providerFailures(P), windowMs: DAY },
              eventIds: [`c${i}`, `cl${i}`],
            }),
          );
        }
        out.push(await s.listEvents("cap-b", { limit: 10 }));
        return out;
      };
      const a = await run(stepped.store);
      expect(a).toEqual(await run(withoutSteps(composed.store)));
      expect((a[4] as TokenEvent[]).map((e) => e.id)).toEqual(["c3", "c2"]);
      const hash = `${stepped.prefix}:eh:{${tagOf("cap-b")}}`;
      // '#seq', '#min', '#exp' + 2 events × 3 fields
      expect(Number(await d.send(["HLEN", hash], hash))).toBe(3 + 2 * 3);
      expect(Number(await d.send(["PTTL", hash], hash))).toBeGreaterThan(364 * DAY);
    });

    it("of 25 concurrent correct verifications exactly one is ok, and the log says so", async () => {
      const { store } = open("race");
      await store.save({
        tokenId: "race-t",
        guideId: "race-g",
        providerId: P,
        beneficiaryId: "race-b",
        codeHash: "h1:race",
        issuedAtMs: T0,
        expiresAtMs: T0 + 10 * MIN,
        maxAttempts: 5,
        channel: "sms",
      });
      const results = await Promise.all(
        Array.from({ length: 25 }, (_, i) =>
          store.verifyStep({
            guideId: "race-g",
            providerId: P,
            candidateHash: "h1:race",
            nowMs: T0 + 1,
            failureWindowMs: DAY,
            providerFailures: { key: rateLimitKeys.providerFailures(P), windowMs: DAY },
            eventIds: [`r${i}`, `rl${i}`],
          }),
        ),
      );
      expect(results.filter((r) => r.attempt.outcome === "ok").length).toBe(1);
      expect(results.filter((r) => r.attempt.outcome === "consumed").length).toBe(24);
      const log = await store.listEvents("race-b", { limit: 100 });
      expect(log.filter((e) => e.type === "token.verified").length).toBe(1);
      expect(log.filter((e) => e.reason === "consumed").length).toBe(24);
    });

    it("a refused issue step changes nothing at all", async () => {
      const { prefix, store } = open("refused");
      const input = (tokenId: string, at: number, sendsMax = 5): IssueStepInput => ({
        token: {
          tokenId,
          guideId: "ref-g",
          providerId: P,
          beneficiaryId: "ref-b",
          codeHash: `h1:${tokenId}`,
          issuedAtMs: at,
          expiresAtMs: at + 10 * MIN,
          maxAttempts: 5,
          channel: "sms",
        },
        failures: { key: rateLimitKeys.failures("ref-b"), max: 1, windowMs: DAY },
        cooldown: { key: rateLimitKeys.cooldown("ref-g"), max: 1, windowMs: MIN },
        sends: { key: rateLimitKeys.sends("ref-g"), max: sendsMax, windowMs: DAY },
        revokedEvent: {
          id: `rv-${tokenId}`,
          atMs: at,
          beneficiaryId: "ref-b",
          type: "token.revoked",
          reason: "superseded",
        },
        issuedEvents: [
          { id: `is-${tokenId}`, atMs: at, beneficiaryId: "ref-b", type: "token.issued", tokenId },
        ],
      });
      expect((await store.issueStep(input("r1", T0))).outcome).toBe("saved");
      const masters = await d.masters();
      const before = await dump(masters, prefix);
      expect(await store.issueStep(input("r2", T0 + 1000))).toEqual({
        outcome: "cooldown",
        resetAtMs: T0 + MIN,
      });
      expect(await store.issueStep(input("r3", T0 + 2 * MIN, 1))).toEqual({
        outcome: "sends_per_guide",
        resetAtMs: T0 + DAY,
      });
      expect(await dump(masters, prefix)).toEqual(before);
      await store.increment(rateLimitKeys.failures("ref-b"), DAY, T0 + 3 * MIN);
      const locked = await dump(masters, prefix);
      expect(await store.issueStep(input("r4", T0 + 4 * MIN))).toEqual({
        outcome: "locked_out",
        resetAtMs: T0 + 3 * MIN + DAY,
      });
      expect(await dump(masters, prefix)).toEqual(locked);
    });

    it("concurrent issues of one guide: each save supersedes the token before it, the log holds their events only", async () => {
      const { store } = open("racei");
      const n = 8;
      const input = (i: number, cooldown: boolean): IssueStepInput => ({
        token: {
          tokenId: `ri-${cooldown ? "c" : "n"}-${i}`,
          guideId: cooldown ? "racei-gc" : "racei-g",
          providerId: P,
          beneficiaryId: cooldown ? "racei-bc" : "racei-b",
          codeHash: `h1:ri-${i}`,
          issuedAtMs: T0,
          expiresAtMs: T0 + 10 * MIN,
          maxAttempts: 5,
          channel: "sms",
        },
        failures: { key: rateLimitKeys.failures(cooldown ? "racei-bc" : "racei-b"), max: 5, windowMs: DAY },
        ...(cooldown ? { cooldown: { key: rateLimitKeys.cooldown("racei-gc"), max: 1, windowMs: MIN } } : {}),
        sends: { key: rateLimitKeys.sends(cooldown ? "racei-gc" : "racei-g"), max: 100, windowMs: DAY },
        revokedEvent: {
          id: `rrv-${i}`,
          atMs: T0,
          beneficiaryId: cooldown ? "racei-bc" : "racei-b",
          type: "token.revoked",
          reason: "superseded",
        },
        issuedEvents: [
          {
            id: `ris-${i}`,
            atMs: T0,
            beneficiaryId: cooldown ? "racei-bc" : "racei-b",
            type: "token.issued",
            tokenId: `ri-${cooldown ? "c" : "n"}-${i}`,
          },
        ],
      });
      const ids = (events: readonly TokenEvent[]) => events.map((e) => e.id).sort();

      // no cooldown: every issue saves, one after the other
      const all = await Promise.all(Array.from({ length: n }, (_, i) => store.issueStep(input(i, false))));
      const superseded: string[] = [];
      const appended: TokenEvent[] = [];
      for (const r of all) {
        if (r.outcome !== "saved") throw new Error(`an issue was refused: ${r.outcome}`);
        superseded.push(...r.superseded);
        appended.push(...r.events);
      }
      const last = (await store.get("racei-g"))!.tokenId;
      // a chain: every token but the last superseded exactly once, the first issue superseded nothing
      expect(new Set(superseded).size).toBe(n - 1);
      expect(superseded).not.toContain(last);
      const log = await store.listEvents("racei-b", { limit: 100 });
      expect(ids(log)).toEqual(ids(appended));
      expect(
        log
          .filter((e) => e.type === "token.revoked")
          .map((e) => e.tokenId)
          .sort(),
      ).toEqual([...superseded].sort());

      // a cooldown: one issue saves; the refused ones leave no event behind
      const cooled = await Promise.all(Array.from({ length: n }, (_, i) => store.issueStep(input(i, true))));
      const saved = cooled.filter((r) => r.outcome === "saved");
      expect(saved.length).toBe(1);
      expect(cooled.filter((r) => r.outcome === "cooldown").length).toBe(n - 1);
      const cooledLog = await store.listEvents("racei-bc", { limit: 100 });
      expect(ids(cooledLog)).toEqual(ids(saved[0]!.outcome === "saved" ? saved[0]!.events : []));
    });

    it("keeps working after SCRIPT FLUSH (NOSCRIPT: EVAL once, then EVALSHA again)", async () => {
      const { store } = open("flush");
      const issued = await store.issueStep({
        token: {
          tokenId: "f1",
          guideId: "flush-g",
          providerId: P,
          beneficiaryId: "flush-b",
          codeHash: "h1:f1",
          issuedAtMs: T0,
          expiresAtMs: T0 + 10 * MIN,
          maxAttempts: 5,
          channel: "sms",
        },
        failures: { key: rateLimitKeys.failures("flush-b"), max: 5, windowMs: DAY },
        sends: { key: rateLimitKeys.sends("flush-g"), max: 5, windowMs: DAY },
        revokedEvent: { id: "frv", atMs: T0, beneficiaryId: "flush-b", type: "token.revoked" },
        issuedEvents: [
          { id: "fis", atMs: T0, beneficiaryId: "flush-b", type: "token.issued", tokenId: "f1" },
        ],
      });
      expect(issued.outcome).toBe("saved");
      for (const send of await d.masters()) await send(["SCRIPT", "FLUSH"]);
      const verify = (i: number) =>
        store.verifyStep({
          guideId: "flush-g",
          providerId: P,
          candidateHash: i === 0 ? "h1:no" : "h1:f1",
          nowMs: T0 + 1 + i,
          failureWindowMs: DAY,
          providerFailures: { key: rateLimitKeys.providerFailures(P), windowMs: DAY },
          eventIds: [`fv${i}`, `fl${i}`],
        });
      d.calls.length = 0;
      expect((await verify(0)).attempt.outcome).toBe("mismatch");
      const first = d.calls.map((c) => c[0]);
      // the guide's script, and on a cluster the beneficiary's: each node retries once with EVAL
      expect(first).toEqual(
        deployment.cluster ? ["EVALSHA", "EVAL", "EVALSHA", "EVAL"] : ["EVALSHA", "EVAL"],
      );
      d.calls.length = 0;
      expect((await verify(1)).attempt.outcome).toBe("ok");
      expect(d.calls.map((c) => c[0])).toEqual(deployment.cluster ? ["EVALSHA", "EVALSHA"] : ["EVALSHA"]);
      expect((await store.listEvents("flush-b", { limit: 10 })).map((e) => e.id)).toEqual([
        "fv1",
        "fv0",
        "fis",
      ]);
      for (const send of await d.masters()) {
        for (const s of Object.values(SCRIPTS)) await send(["SCRIPT", "LOAD", s.source]);
      }
    });

    it("a token saved without the beneficiary's tag (an older version) verifies the same, in a second call", async () => {
      const stepped = open("old");
      const composed = open("oldc");
      await loadVerify(stepped.prefix);
      const run = async (s: SteppingStore, raw?: string) => {
        await s.save({
          tokenId: "old-t",
          guideId: "old-g",
          providerId: P,
          beneficiaryId: "old-b",
          codeHash: "h1:old",
          issuedAtMs: T0,
          expiresAtMs: T0 + 10 * MIN,
          maxAttempts: 3,
          channel: "email",
        });
        if (raw !== undefined) await d.send(["HDEL", raw, "b"], raw);
        const out: unknown[] = [];
        d.calls.length = 0;
        for (const [i, [hash, provider]] of [
          ["h1:no", P],
          ["h1:old", OTHER],
          ["h1:old", P],
        ].entries()) {
          out.push(
            await runVerifyStep(s, {
              guideId: "old-g",
              providerId: provider!,
              candidateHash: hash!,
              nowMs: T0 + i,
              failureWindowMs: DAY,
              providerFailures: { key: rateLimitKeys.providerFailures(provider!), windowMs: DAY },
              eventIds: [`o${i}`, `ol${i}`],
            }),
          );
        }
        const trips = d.calls.length;
        out.push(await s.peek(rateLimitKeys.failures("old-b"), T0 + 5));
        out.push(await s.peek(rateLimitKeys.providerFailures(OTHER), T0 + 5));
        out.push(await s.listEvents("old-b", { limit: 10 }));
        return { out, trips };
      };
      const a = await run(stepped.store, `${stepped.prefix}:t:{${tagOf("old-g")}}`);
      const b = await run(withoutSteps(composed.store));
      expect(a.out).toEqual(b.out);
      // mismatch: the token, then failures + events; wrong_provider: token, provider counter, events; ok: 2
      expect(a.trips).toBe(7);
    });

    it.skipIf(deployment.cluster)(
      "a killed connection leaves a verify's consumption and its event together, or neither (an issue's save and events too)",
      async () => {
        const { prefix, store: reader } = open("kill");
        const admin = new Redis(REDIS_URL);
        let lost = 0;
        try {
          for (let i = 0; i < 40; i++) {
            const guideId = `kill-g-${i}`;
            const beneficiaryId = `kill-b-${i}`;
            const victim = new Redis(REDIS_URL, {
              maxRetriesPerRequest: 0,
              autoResendUnfulfilledCommands: false,
              retryStrategy: () => null,
            });
            victim.on("error", () => {});
            const clientId = String(await victim.call("CLIENT", "ID"));
            const store = new RedisTokenStore({ client: victim, prefix });
            const issue = store.issueStep({
              token: {
                tokenId: `kt-${i}`,
                guideId,
                providerId: P,
                beneficiaryId,
                codeHash: `h1:${i}`,
                issuedAtMs: T0,
                expiresAtMs: T0 + 10 * MIN,
                maxAttempts: 5,
                channel: "sms",
              },
              failures: { key: rateLimitKeys.failures(beneficiaryId), max: 5, windowMs: DAY },
              sends: { key: rateLimitKeys.sends(guideId), max: 5, windowMs: DAY },
              revokedEvent: { id: `krv-${i}`, atMs: T0, beneficiaryId, type: "token.revoked" },
              issuedEvents: [{ id: `kis-${i}`, atMs: T0, beneficiaryId, type: "token.issued" }],
            });
            const settled = issue
              .then(() =>
                store.verifyStep({
                  guideId,
                  providerId: P,
                  candidateHash: `h1:${i}`,
                  nowMs: T0 + 1,
                  failureWindowMs: DAY,
                  providerFailures: { key: rateLimitKeys.providerFailures(P), windowMs: DAY },
                  eventIds: [`kv-${i}`, `kl-${i}`],
                }),
              )
              .then(
                (r) => r.attempt.outcome,
                () => "lost",
              );
            // the kill lands before, between or after the two scripts, at a different point each round
            for (let w = 0; w < i % 8; w++) await new Promise((r) => setImmediate(r));
            await admin.call("CLIENT", "KILL", "ID", clientId);
            const outcome = await settled;
            if (outcome === "lost") lost++;
            victim.disconnect();
            const token = await reader.get(guideId);
            const events = (await reader.listEvents(beneficiaryId, { limit: 10 })).map((e) => e.type);
            if (token === undefined) expect(events).toEqual([]);
            else if (token.status === "active") expect(events).toEqual(["token.issued"]);
            else {
              expect(token.status).toBe("consumed");
              expect(events).toEqual(["token.verified", "token.issued"]);
            }
          }
        } finally {
          admin.disconnect();
        }
        expect(lost).toBeGreaterThan(0);
      },
    );
  });
}
