import fc from "fast-check";
import Redis from "ioredis";
import { createClient } from "redis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RedisTokenStore } from "../../src/adapters/redis.js";
import { ConfigError, StoreUnavailableError } from "../../src/errors.js";
import { runStoreConformance } from "../../src/testing/store-conformance.js";
import { redisInterrupter } from "../helpers/interrupt.js";
import { describeWithService, probeRedis, REDIS_URL, uniqueName } from "../helpers/services.js";
import { dropRedisPrefix } from "../helpers/store-matrix.js";
import { contractOperations, seedScanData, T0, token } from "../helpers/store-ops.js";

const probe = await probeRedis();
const RETENTION_MS = 7 * 86_400_000;
/** What an append that sets the event log's TTL adds to the retention (an hour, below a shorter retention). */
const SLACK_MS = 3_600_000;

type Send = (args: string[]) => Promise<unknown>;

describeWithService(probe, "RedisTokenStore", () => {
  describe("with ioredis", () => {
    const clients = Array.from(
      { length: 4 },
      () => new Redis(REDIS_URL, { lazyConnect: true, enableOfflineQueue: true, maxRetriesPerRequest: 1 }),
    );
    let next = 0;
    beforeAll(async () => {
      await Promise.all(clients.map((c) => c.connect()));
    });
    afterAll(() => {
      for (const c of clients) c.disconnect();
    });
    runStoreConformance({
      name: "RedisTokenStore (ioredis)",
      createStore: ({ namespace }) =>
        new RedisTokenStore({
          client: clients[next++ % clients.length]!,
          prefix: namespace,
          eventRetentionMs: RETENTION_MS,
        }),
      cleanup: ({ namespace }) => dropRedisPrefix((a) => clients[0]!.call(a[0]!, ...a.slice(1)), namespace),
      capabilities: { eventRetentionMs: RETENTION_MS },
      interrupt: redisInterrupter("ioredis", (a) => clients[0]!.call(a[0]!, ...a.slice(1)), {
        eventRetentionMs: RETENTION_MS,
      }),
      test: { describe, it, expect },
    });
  });

  describe("with node-redis", () => {
    const clients = Array.from({ length: 4 }, () => createClient({ url: REDIS_URL }));
    let next = 0;
    beforeAll(async () => {
      await Promise.all(clients.map((c) => c.connect()));
    });
    afterAll(async () => {
      await Promise.all(clients.map((c) => c.quit()));
    });
    runStoreConformance({
      name: "RedisTokenStore (node-redis)",
      createStore: ({ namespace }) =>
        new RedisTokenStore({
          client: clients[next++ % clients.length]!,
          prefix: namespace,
          eventRetentionMs: RETENTION_MS,
        }),
      cleanup: ({ namespace }) => dropRedisPrefix((a) => clients[0]!.sendCommand(a), namespace),
      capabilities: { eventRetentionMs: RETENTION_MS },
      interrupt: redisInterrupter("node-redis", (a) => clients[0]!.sendCommand(a), {
        eventRetentionMs: RETENTION_MS,
      }),
      test: { describe, it, expect },
    });
  });

  describe("Redis specifics", () => {
    const raw = new Redis(REDIS_URL, { lazyConnect: true });
    const send: Send = (a) => raw.call(a[0]!, ...a.slice(1));
    const prefix = uniqueName("redis");
    let calls: string[][] = [];
    const counting = {
      call: (cmd: string, ...args: string[]) => {
        calls.push([cmd, ...args]);
        return raw.call(cmd, ...args);
      },
    };
    const store = new RedisTokenStore({
      client: counting,
      prefix,
      maxEventsPerBeneficiary: 3,
      eventRetentionMs: RETENTION_MS,
    });

    beforeAll(async () => {
      await raw.connect();
    });
    afterAll(async () => {
      await dropRedisPrefix(send, prefix);
      raw.disconnect();
    });

    async function allKeys(): Promise<string[]> {
      const out: string[] = [];
      let cursor = "0";
      do {
        const [c, keys] = (await send(["SCAN", cursor, "MATCH", `${prefix}:*`, "COUNT", "1000"])) as [
          string,
          string[],
        ];
        cursor = c;
        out.push(...keys);
      } while (cursor !== "0");
      return out;
    }

    it("rejects a bad client or prefix with ConfigError", () => {
      expect(() => new RedisTokenStore({ client: {} as never })).toThrow(ConfigError);
      for (const bad of ["", "a{b", "a}b", "a*", "a b", "x".repeat(129)]) {
        expect(() => new RedisTokenStore({ client: counting, prefix: bad })).toThrow(ConfigError);
      }
    });

    it("every operation is one round trip once the scripts are cached", async () => {
      const t = token({ tokenId: "rt-1", guideId: "rt-guide" });
      await store.save(t); // may load the script (NOSCRIPT -> EVAL) on a fresh server
      await store.attempt({
        guideId: "rt-guide",
        providerId: "provider-1",
        candidateHash: "h1:x",
        nowMs: T0,
      });
      const ops = contractOperations(store, token({ tokenId: "rt-2", guideId: "rt-guide" }), T0);
      for (const [, op] of ops) await op(); // warm every script
      for (const [name, op] of ops) {
        calls = [];
        await op();
        expect({ name, roundTrips: calls.length }).toEqual({ name, roundTrips: 1 });
      }
    });

    it("falls back to EVAL after SCRIPT FLUSH (NOSCRIPT) and keeps working", async () => {
      await store.save(token({ tokenId: "ns-1", guideId: "ns-guide" }));
      await send(["SCRIPT", "FLUSH"]);
      calls = [];
      const r = await store.attempt({
        guideId: "ns-guide",
        providerId: "provider-1",
        candidateHash: "h1:ns-1",
        nowMs: T0,
      });
      expect(r.outcome).toBe("ok");
      expect(calls.map((c) => c[0])).toEqual(["EVALSHA", "EVAL"]);
      calls = [];
      await store.attempt({
        guideId: "ns-guide",
        providerId: "provider-1",
        candidateHash: "h1:ns-1",
        nowMs: T0,
      });
      expect(calls.map((c) => c[0])).toEqual(["EVALSHA"]);
    });

    it("keys of one guide or beneficiary share one hash tag, whatever the id holds", async () => {
      const id = "{evil}:\"'ção}{";
      await store.save(token({ tokenId: "ht-1", guideId: id, beneficiaryId: id }));
      await store.appendEvent({ id: "e", type: "token.issued", atMs: T0, beneficiaryId: id });
      const encoded = `_${Buffer.from(id).toString("base64url")}`;
      const keys = (await allKeys()).filter((k) => k.includes(encoded));
      expect(keys.length).toBe(3);
      const tag = (k: string) => {
        const open = k.indexOf("{");
        return k.slice(open + 1, k.indexOf("}", open + 1));
      };
      const ev = keys.filter((k) => k.includes(":ez:") || k.includes(":eh:"));
      expect(ev.length).toBe(2);
      expect(tag(ev[0]!)).toBe(tag(ev[1]!));
      for (const k of keys) {
        expect(tag(k)).toBe(encoded);
        expect(k.startsWith(`${prefix}:`)).toBe(true);
        expect(k.indexOf("{")).toBe(k.lastIndexOf("{"));
      }
    });

    it("TTLs follow the token's lifetime, the counter's window and the claim's expiry", async () => {
      await store.save(
        token({ tokenId: "ttl-1", guideId: "ttl-guide", issuedAtMs: T0, expiresAtMs: T0 + 600_000 }),
      );
      await store.increment("ttl-c", 90_000, T0);
      await store.claimOnce("ttl-o", T0 + 30_000, T0);
      const keys = await allKeys();
      const pttl = async (kind: string, part: string) => {
        const k = keys.find((x) => x.includes(`:${kind}:`) && x.includes(part));
        return Number(await send(["PTTL", k!]));
      };
      const b64 = (s: string) => `{=${s}}`;
      const tokenTtl = await pttl("t", b64("ttl-guide"));
      expect(tokenTtl).toBeGreaterThan(600_000 + 86_400_000 - 5_000);
      expect(tokenTtl).toBeLessThanOrEqual(600_000 + 86_400_000);
      const ctr = await pttl("c", b64("ttl-c"));
      expect(ctr).toBeGreaterThan(85_000);
      expect(ctr).toBeLessThanOrEqual(90_000);
      const claim = await pttl("o", b64("ttl-o"));
      expect(claim).toBeGreaterThan(25_000);
      expect(claim).toBeLessThanOrEqual(30_000);
    });

    it("the event log's TTL covers its newest event, also for logs written before '#exp' and late events", async () => {
      const ttls = async (beneficiaryId: string) => {
        const z = `${prefix}:ez:{=${beneficiaryId}}`;
        const h = `${prefix}:eh:{=${beneficiaryId}}`;
        return [Number(await send(["PTTL", z])), Number(await send(["PTTL", h]))];
      };
      const late = 600_000;
      // the log as this version leaves it, as the version before '#exp' left it ('#max' and '#min', the TTL
      // the retention past the newest event), and as the versions before '#max' and '#min' left it
      const forms = ["current", "before #exp", "before #max"] as const;
      const age = async (form: (typeof forms)[number], b: string, newest: number, atMs: number) => {
        const z = `${prefix}:ez:{=${b}}`;
        const h = `${prefix}:eh:{=${b}}`;
        if (form === "current") return;
        await send(["HDEL", h, "#exp", "#min"]);
        if (form === "before #exp") await send(["HSET", h, "#max", String(newest), "#min", String(atMs)]);
        const ttl = String(RETENTION_MS + newest - atMs);
        await send(["PEXPIRE", z, ttl]);
        await send(["PEXPIRE", h, ttl]);
      };
      for (const form of forms) {
        const b = `ttl-log-${forms.indexOf(form)}`;
        await store.appendEvent({ id: `${b}-1`, type: "token.issued", atMs: T0 + late, beneficiaryId: b });
        await age(form, b, T0 + late, T0 + late);
        // an event older than the newest: the log lives on for the newest one
        await store.appendEvent({ id: `${b}-2`, type: "token.issued", atMs: T0, beneficiaryId: b });
        for (const ttl of await ttls(b)) {
          expect(ttl).toBeGreaterThan(RETENTION_MS + late - 5_000);
          expect(ttl).toBeLessThanOrEqual(RETENTION_MS + late + SLACK_MS);
        }
        expect(await send(["HMGET", `${prefix}:eh:{=${b}}`, "#max", "#min", "#exp"])).toEqual([
          null,
          String(T0),
          String(T0 + late + RETENTION_MS + SLACK_MS),
        ]);
        expect((await store.listEvents(b, { limit: 10 })).map((e) => e.id)).toEqual([`${b}-1`, `${b}-2`]);
        // the retention still trims an older log: its oldest event is read from the set
        await age(form, b, T0 + late, T0);
        await store.appendEvent({
          id: `${b}-3`,
          type: "token.issued",
          atMs: T0 + RETENTION_MS + 1,
          beneficiaryId: b,
        });
        expect((await store.listEvents(b, { limit: 10 })).map((e) => e.id)).toEqual([`${b}-3`, `${b}-1`]);
        expect(await send(["HMGET", `${prefix}:eh:{=${b}}`, "#max", "#min", "#exp"])).toEqual([
          null,
          String(T0 + late),
          String(T0 + 2 * RETENTION_MS + 1 + SLACK_MS),
        ]);
        for (const ttl of await ttls(b)) expect(ttl).toBeGreaterThan(RETENTION_MS + SLACK_MS - 5_000);
      }
    });

    it("an append leaves the log's TTL alone while '#exp' covers the retention past its event, not 1 ms longer", async () => {
      const p = uniqueName("edge");
      const s = new RedisTokenStore({ client: raw, prefix: p, eventRetentionMs: RETENTION_MS });
      const b = "edge";
      const z = `${p}:ez:{=${b}}`;
      const h = `${p}:eh:{=${b}}`;
      const ttls = async () => [Number(await send(["PTTL", z])), Number(await send(["PTTL", h]))];
      const exp = async () => Number(await send(["HGET", h, "#exp"]));
      const append = (id: string, atMs: number) =>
        s.appendEvent({ id, type: "token.issued", atMs, beneficiaryId: b });
      try {
        // a new log: the retention and the slack past its event
        await append("edge-1", T0);
        for (const ttl of await ttls()) {
          expect(ttl).toBeGreaterThan(RETENTION_MS + SLACK_MS - 5_000);
          expect(ttl).toBeLessThanOrEqual(RETENTION_MS + SLACK_MS);
        }
        expect(await exp()).toBe(T0 + RETENTION_MS + SLACK_MS);
        // the log as if its TTL had run down to exactly the retention past an event at `at`
        const at = T0 + SLACK_MS;
        for (const k of [z, h]) await send(["PEXPIRE", k, String(RETENTION_MS)]);
        await send(["HSET", h, "#exp", String(at + RETENTION_MS)]);
        // an event at `at`: the TTL is left as it is
        await append("edge-2", at);
        for (const ttl of await ttls()) {
          expect(ttl).toBeGreaterThan(RETENTION_MS - 5_000);
          expect(ttl).toBeLessThanOrEqual(RETENTION_MS);
        }
        expect(await exp()).toBe(at + RETENTION_MS);
        // 1 ms later: the retention and the slack past it
        await append("edge-3", at + 1);
        for (const ttl of await ttls()) {
          expect(ttl).toBeGreaterThan(RETENTION_MS + SLACK_MS - 5_000);
          expect(ttl).toBeLessThanOrEqual(RETENTION_MS + SLACK_MS);
        }
        expect(await exp()).toBe(at + 1 + RETENTION_MS + SLACK_MS);
        // and the retention trims as before on the path that skips the TTL: an event the retention after the
        // oldest keeps it, 1 ms later drops it
        await send(["HSET", h, "#exp", String(T0 + 3 * RETENTION_MS)]);
        await append("edge-4", T0 + RETENTION_MS);
        expect((await s.listEvents(b, { limit: 10 })).map((e) => e.id)).toEqual([
          "edge-4",
          "edge-3",
          "edge-2",
          "edge-1",
        ]);
        await append("edge-5", T0 + RETENTION_MS + 1);
        expect((await s.listEvents(b, { limit: 10 })).map((e) => e.id)).toEqual([
          "edge-5",
          "edge-4",
          "edge-3",
          "edge-2",
        ]);
        expect(await send(["HGET", h, "#min"])).toBe(String(at));
        for (const ttl of await ttls()) expect(ttl).toBeLessThanOrEqual(RETENTION_MS + SLACK_MS);
      } finally {
        await dropRedisPrefix(send, p);
      }
    });

    it("the event log is bounded by count and by retention, and its keys expire", async () => {
      for (let i = 0; i < 5; i++)
        await store.appendEvent({ id: `cap-${i}`, type: "token.issued", atMs: T0 + i, beneficiaryId: "cap" });
      expect((await store.listEvents("cap", { limit: 100 })).map((e) => e.id)).toEqual([
        "cap-4",
        "cap-3",
        "cap-2",
      ]);
      // a paging cursor at a trimmed event gives an empty page, never older data
      expect(await store.listEvents("cap", { limit: 10, before: "cap-0" })).toEqual([]);
      await store.appendEvent({
        id: "late",
        type: "token.issued",
        atMs: T0 + RETENTION_MS + 3,
        beneficiaryId: "cap",
      });
      expect((await store.listEvents("cap", { limit: 100 })).map((e) => e.id)).toEqual([
        "late",
        "cap-4",
        "cap-3",
      ]);
      await store.appendEvent({
        id: "later",
        type: "token.issued",
        atMs: T0 + RETENTION_MS + 10,
        beneficiaryId: "cap",
      });
      expect((await store.listEvents("cap", { limit: 100 })).map((e) => e.id)).toEqual(["later", "late"]);
      const hashKey = (await allKeys()).find((k) => k.endsWith(":eh:{=cap}"));
      expect(hashKey).toBeDefined();
      // no orphaned entries left in the hash: '#seq', '#min', '#exp' + 2 events × 3 fields
      expect(Number(await send(["HLEN", hashKey!]))).toBe(3 + 2 * 3);
      expect(await send(["HMGET", hashKey!, "#max", "#min", "#exp"])).toEqual([
        null,
        String(T0 + RETENTION_MS + 3),
        String(T0 + 2 * RETENTION_MS + 3 + SLACK_MS),
      ]);
      expect(Number(await send(["PTTL", hashKey!]))).toBeGreaterThan(RETENTION_MS - 5_000);
    });

    it("no plaintext code or clear contact anywhere in Redis after a save and its events", async () => {
      const contact = "+5543999990001";
      const { code, codeHash } = await seedScanData(store, "sms");
      await store.attempt({
        guideId: "scan-guide",
        providerId: "provider-1",
        candidateHash: codeHash,
        nowMs: T0,
      });
      const dump: string[] = [];
      for (const key of await allKeys()) {
        dump.push(key);
        const type = String(await send(["TYPE", key]));
        if (type === "hash") dump.push(...((await send(["HGETALL", key])) as string[]));
        else if (type === "zset")
          dump.push(...((await send(["ZRANGE", key, "0", "-1", "WITHSCORES"])) as string[]));
        else if (type === "string") dump.push(String(await send(["GET", key])));
        else dump.push(`unexpected type ${type}`);
      }
      const text = dump.join("\n");
      expect(text.includes(codeHash)).toBe(true); // the scan does see the stored data
      expect(text.includes(code)).toBe(false);
      expect(text.includes(contact)).toBe(false);
      expect(text.includes("99999-0001")).toBe(false);
      expect(text.includes("unexpected type")).toBe(false);
    });

    it("property: arbitrary unicode ids round-trip and never collide", async () => {
      const id = fc.string({ unit: "grapheme", minLength: 0, maxLength: 40 });
      await fc.assert(
        fc.asyncProperty(fc.uniqueArray(id, { minLength: 2, maxLength: 4 }), async (ids) => {
          const p = uniqueName("prop");
          const s = new RedisTokenStore({ client: raw, prefix: p });
          try {
            for (const [i, g] of ids.entries())
              await s.save(token({ tokenId: `p${i}`, guideId: g, providerId: g }));
            for (const [i, g] of ids.entries()) {
              expect((await s.get(g))?.tokenId).toBe(`p${i}`);
              const r = await s.attempt({ guideId: g, providerId: g, candidateHash: `h1:p${i}`, nowMs: T0 });
              expect(r.outcome).toBe("ok");
            }
          } finally {
            await dropRedisPrefix(send, p);
          }
        }),
        { numRuns: 25 },
      );
    });

    it("a backend error rejects with StoreUnavailableError (scope redis) and hides the data", async () => {
      const broken = new RedisTokenStore({
        client: { call: async () => Promise.reject(new Error("WRONGTYPE Operation against a key")) },
      });
      const err = await broken
        .attempt({ guideId: "g", providerId: "p", candidateHash: "h1:secret", nowMs: T0 })
        .catch((e) => e);
      expect(err).toBeInstanceOf(StoreUnavailableError);
      expect(err.message).toBe("[health-token] [redis] attempt failed");
      expect(err.cause).toBeInstanceOf(Error);
      await expect(broken.get("g")).rejects.toBeInstanceOf(StoreUnavailableError);
      await expect(broken.purge(T0)).rejects.toBeInstanceOf(StoreUnavailableError);
    });
  });
});
