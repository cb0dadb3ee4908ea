/**
 * Every store the service suites run on: memory, Redis (ioredis and node-redis), Redis Cluster (ioredis
 * `Cluster` and node-redis `createCluster`), PostgreSQL (server and PGlite). Each backend opens a fresh namespace and closes it again, so suites can run side by side.
 */
import { PGlite } from "@electric-sql/pglite";
import Redis from "ioredis";
import pg from "pg";
import { createClient } from "redis";
import { MemoryTokenStore } from "../../src/adapters/memory.js";
import { PostgresTokenStore } from "../../src/adapters/postgres.js";
import { RedisTokenStore } from "../../src/adapters/redis.js";
import type { TokenStore } from "../../src/ports/store.js";
import { type ClusterClient, dropClusterPrefix, ioredisCluster, nodeRedisCluster } from "./redis-cluster.js";
import {
  DATABASE_URL,
  type Probe,
  probePostgres,
  probeRedis,
  probeRedisCluster,
  REDIS_URL,
  uniqueName,
} from "./services.js";

/** One opened store and how to dispose of it. */
export interface OpenedStore {
  readonly store: TokenStore;
  close(): Promise<void>;
}

/** One backend of the matrix. */
export interface Backend {
  readonly name: string;
  /** `undefined` for in-process backends; otherwise the probe of the server it needs. */
  readonly probe: Probe | undefined;
  open(): Promise<OpenedStore>;
}

/** Deletes every key under `prefix` (SCAN + DEL), through a raw command sender. */
export async function dropRedisPrefix(
  send: (args: string[]) => Promise<unknown>,
  prefix: string,
): Promise<void> {
  let cursor = "0";
  do {
    const [next, keys] = (await send(["SCAN", cursor, "MATCH", `${prefix}:*`, "COUNT", "1000"])) as [
      string,
      string[],
    ];
    cursor = next;
    if (keys.length > 0) await send(["DEL", ...keys]);
  } while (cursor !== "0");
}

/** The backends, with their servers probed once. */
export async function storeMatrix(): Promise<Backend[]> {
  const [redis, cluster, postgres] = await Promise.all([probeRedis(), probeRedisCluster(), probePostgres()]);
  const onCluster = (name: string, connect: () => Promise<ClusterClient>): Backend => ({
    name,
    probe: cluster,
    open: async () => {
      const c = await connect();
      const prefix = uniqueName("cluster");
      return {
        store: new RedisTokenStore({ client: c.client, prefix }),
        close: async () => {
          await dropClusterPrefix(await c.masters(), prefix);
          await c.close();
        },
      };
    },
  });
  const quote = (name: string) => `"${name.replaceAll('"', '""')}"`;
  return [
    {
      name: "memory",
      probe: undefined,
      open: async () => ({ store: new MemoryTokenStore(), close: async () => {} }),
    },
    {
      name: "Redis (ioredis)",
      probe: redis,
      open: async () => {
        const client = new Redis(REDIS_URL, { maxRetriesPerRequest: 1 });
        const prefix = uniqueName("redis");
        return {
          store: new RedisTokenStore({ client, prefix }),
          close: async () => {
            await dropRedisPrefix((a) => client.call(a[0]!, ...a.slice(1)), prefix);
            client.disconnect();
          },
        };
      },
    },
    {
      name: "Redis (node-redis)",
      probe: redis,
      open: async () => {
        const client = createClient({ url: REDIS_URL });
        await client.connect();
        const prefix = uniqueName("nredis");
        return {
          store: new RedisTokenStore({ client, prefix }),
          close: async () => {
            await dropRedisPrefix((a) => client.sendCommand(a), prefix);
            await client.quit();
          },
        };
      },
    },
    onCluster("Redis Cluster (ioredis)", ioredisCluster),
    onCluster("Redis Cluster (node-redis)", nodeRedisCluster),
    {
      name: "PostgreSQL (server)",
      probe: postgres,
      open: async () => {
        const pool = new pg.Pool({ connectionString: DATABASE_URL, max: 8 });
        pool.on("error", () => {});
        const schema = uniqueName("pg");
        const store = new PostgresTokenStore({ pool, schema });
        await store.migrate();
        return {
          store,
          close: async () => {
            await pool.query(`DROP SCHEMA IF EXISTS ${quote(schema)} CASCADE`);
            await pool.end();
          },
        };
      },
    },
    {
      name: "PostgreSQL (PGlite)",
      probe: undefined,
      open: async () => {
        const db = new PGlite();
        const store = new PostgresTokenStore({ pool: db, schema: "ht" });
        await store.migrate();
        return { store, close: () => db.close() };
      },
    },
  ];
}
