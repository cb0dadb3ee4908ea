/**
 * Fault tests: a Redis server of our own, on a free port, paused and killed mid-run. The store must reject with
 * StoreUnavailableError, never report `ok` for a token it did not consume, and work again after a restart.
 */
import Redis from "ioredis";
import { createClient } from "redis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RedisClientLike, RedisTokenStore } from "../../src/adapters/redis.js";
import { StoreUnavailableError } from "../../src/errors.js";
import { attemptCorrect, type Settled, settle, token } from "../helpers/fault-fixtures.js";
import { freePort, hasRedisBinary as hasBinary, RedisProcess, waitFor } from "../helpers/redis-process.js";
import { IN_CI } from "../helpers/services.js";

interface ClientKind {
  readonly name: string;
  /** A client that fails fast: no offline queue, a command timeout, no resend of unfulfilled commands. */
  create(port: number): Promise<{ client: RedisClientLike; close: () => Promise<void> }>;
}

const kinds: ClientKind[] = [
  {
    name: "ioredis",
    async create(port) {
      const client = new Redis({
        port,
        host: "127.0.0.1",
        enableOfflineQueue: false,
        maxRetriesPerRequest: 0,
        autoResendUnfulfilledCommands: false,
        commandTimeout: 400,
        retryStrategy: () => 100,
      });
      client.on("error", () => {});
      await waitFor(async () => client.status === "ready", "ioredis ready");
      return { client, close: async () => client.disconnect() };
    },
  },
  {
    name: "node-redis",
    async create(port) {
      const client = createClient({
        // node-redis' command timeout stops once a command is written; socketTimeout closes a silent socket,
        // which rejects what is in flight
        socket: {
          host: "127.0.0.1",
          port,
          reconnectStrategy: () => 100,
          connectTimeout: 1000,
          socketTimeout: 400,
        },
        disableOfflineQueue: true,
      });
      client.on("error", () => {});
      await client.connect();
      return {
        client,
        close: async () => {
          client.destroy();
        },
      };
    },
  },
];

const suite = hasBinary ? describe : IN_CI ? describe : describe.skip;
if (!hasBinary && !IN_CI)
  console.warn("[health-token tests] SKIPPING Redis fault tests: no redis-server binary");

for (const kind of kinds) {
  suite(`RedisTokenStore under faults (${kind.name})`, () => {
    let server: RedisProcess;
    let client: RedisClientLike;
    let close: () => Promise<void>;
    let store: RedisTokenStore;

    beforeAll(async () => {
      if (!hasBinary) throw new Error("redis-server is not installed; CI needs it for the fault tests");
      server = new RedisProcess(await freePort());
      await server.start();
      ({ client, close } = await kind.create(server.port));
      store = new RedisTokenStore({ client, prefix: "faults" });
    });
    afterAll(async () => {
      await close?.();
      await server?.kill();
    });

    it("a paused server: calls time out with StoreUnavailableError; every ok consumed; no token consumed twice", async () => {
      const n = 150;
      for (let i = 0; i < n; i++) await store.save(token(i));
      const attempt = (i: number) => attemptCorrect(store, i);
      // a third answered before the pause, a third sent as it freezes, a third sent while it is frozen
      const before = await Promise.all(Array.from({ length: n / 3 }, (_, i) => settle(attempt(i))));
      const racing = Array.from({ length: n / 3 }, (_, i) => settle(attempt(n / 3 + i)));
      server.signal("SIGSTOP");
      const frozen = Array.from({ length: n / 3 }, (_, i) => settle(attempt((2 * n) / 3 + i)));
      const results = [...before, ...(await Promise.all(racing)), ...(await Promise.all(frozen))];
      server.signal("SIGCONT");
      for (const r of before) expect(r.ok && r.value.outcome).toBe("ok");
      for (const r of results.slice((2 * n) / 3)) expect(r.ok).toBe(false);
      for (const r of results) {
        if (r.ok) expect(r.value.outcome).toBe("ok");
        else expect(r.error).toBeInstanceOf(StoreUnavailableError);
      }

      await waitFor(async () => (await store.get("guide-0")) !== undefined, "the server to answer again");
      // every token reported ok is consumed; a retry of each failed attempt yields ok only if nobody consumed it
      const okCount = new Map<number, number>();
      for (const [i, r] of results.entries()) if (r.ok) okCount.set(i, 1);
      for (const [i, r] of results.entries()) {
        const stored = await store.get(`guide-${i}`);
        if (r.ok) expect(stored?.status).toBe("consumed");
        else expect(["active", "consumed"]).toContain(stored?.status);
        const retry = await attempt(i);
        if (retry.outcome === "ok") okCount.set(i, (okCount.get(i) ?? 0) + 1);
        else expect(retry.outcome).toBe("consumed");
        expect(okCount.get(i) ?? 0).toBeLessThanOrEqual(1);
        expect((await store.get(`guide-${i}`))?.status).toBe("consumed");
      }
    });

    it("a killed server: every call rejects with StoreUnavailableError, none resolves ok; a restart heals", async () => {
      const n = 60;
      for (let i = 1000; i < 1000 + n; i++) await store.save(token(i));
      const inflight: Promise<Settled>[] = [];
      for (let i = 1000; i < 1000 + n; i++) {
        inflight.push(settle(attemptCorrect(store, i)));
      }
      await server.kill();
      const during = await Promise.all(inflight);
      for (const r of during) {
        if (r.ok)
          expect(r.value.outcome).toBe("ok"); // answered before the kill
        else expect(r.error).toBeInstanceOf(StoreUnavailableError);
      }
      // after the kill: nothing answers, nothing hangs, nothing is ok
      const after = await Promise.all(
        Array.from({ length: 20 }, (_, i) => settle(attemptCorrect(store, 1000 + i))),
      );
      for (const r of after) {
        expect(r.ok).toBe(false);
        expect((r as { error: unknown }).error).toBeInstanceOf(StoreUnavailableError);
      }
      await expect(store.save(token(1))).rejects.toBeInstanceOf(StoreUnavailableError);
      await expect(store.get("guide-1")).rejects.toBeInstanceOf(StoreUnavailableError);

      await server.start(); // same port, empty data (no persistence), no scripts cached: NOSCRIPT -> EVAL
      await waitFor(async () => (await store.get("nothing")) === undefined, "the client to reconnect");
      expect(await store.save(token(5000))).toEqual({ superseded: [] });
      const ok = await attemptCorrect(store, 5000);
      expect(ok.outcome).toBe("ok");
      const again = await attemptCorrect(store, 5000);
      expect(again.outcome).toBe("consumed");
    });
  });
}
