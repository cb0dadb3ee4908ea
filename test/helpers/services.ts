/**
 * The real services the adapter suites run against. `.ci/run` exports REDIS_URL, REDIS_CLUSTER_NODES and
 * DATABASE_URL and sets CI=true; without CI an unreachable server skips its suite with a message, with CI it
 * fails the suite.
 */
import { randomBytes } from "node:crypto";
import Redis from "ioredis";
import pg from "pg";
import { describe, it } from "vitest";

/** The Redis server of the suites. */
export const REDIS_URL = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";
/**
 * The seed nodes of the 3-master Redis Cluster of the suites (`host:port,host:port,…`); `.ci/run` starts it on
 * 127.0.0.1:7101-7103.
 */
export const REDIS_CLUSTER_NODES = (
  process.env.REDIS_CLUSTER_NODES ?? "127.0.0.1:7101,127.0.0.1:7102,127.0.0.1:7103"
)
  .split(",")
  .map((hp) => hp.trim())
  .filter((hp) => hp !== "")
  .map((hp) => {
    const at = hp.lastIndexOf(":");
    return { host: hp.slice(0, at), port: Number(hp.slice(at + 1)) };
  });
/** The PostgreSQL database of the suites. */
export const DATABASE_URL = process.env.DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/test";
/** Whether an unreachable service fails the suite instead of skipping it. */
export const IN_CI = process.env.CI === "true" || process.env.CI === "1";

/** A prefix or schema name unique to this run: `ht_<time>_<random>` (lowercase, digits, `_`). */
export function uniqueName(label = "t"): string {
  return `ht_${label}_${Date.now().toString(36)}_${randomBytes(4).toString("hex")}`;
}

/** The result of probing a service. */
export interface Probe {
  readonly name: string;
  readonly url: string;
  readonly ok: boolean;
  readonly error?: string;
}

/** A client for one probe: lazy, a short timeout, no retry, no queue. */
function probeClient(url: string): Redis {
  const client = new Redis(url, {
    lazyConnect: true,
    connectTimeout: 2000,
    maxRetriesPerRequest: 0,
    enableOfflineQueue: false,
    retryStrategy: () => null,
  });
  client.on("error", () => {});
  return client;
}

/** PING the Redis server, with a short timeout and no retry. */
export async function probeRedis(url = REDIS_URL): Promise<Probe> {
  const client = probeClient(url);
  try {
    await client.connect();
    const pong = await client.call("PING");
    return { name: "Redis", url, ok: pong === "PONG" };
  } catch (error) {
    return { name: "Redis", url, ok: false, error: String(error) };
  } finally {
    client.disconnect();
  }
}

/**
 * `CLUSTER INFO` on the first seed node: ok when it says `cluster_state:ok` and the cluster has at least 3
 * masters (the suites check that `purge` and the scripts work across masters).
 */
export async function probeRedisCluster(nodes = REDIS_CLUSTER_NODES): Promise<Probe> {
  const url = nodes.map((n) => `${n.host}:${n.port}`).join(",");
  const first = nodes[0];
  if (!first) return { name: "Redis Cluster", url, ok: false, error: "REDIS_CLUSTER_NODES is empty" };
  const client = probeClient(`redis://${first.host}:${first.port}`);
  try {
    await client.connect();
    const info = String(await client.call("CLUSTER", "INFO"));
    const state = /cluster_state:(\w+)/.exec(info)?.[1];
    const masters = Number(/cluster_size:(\d+)/.exec(info)?.[1] ?? 0);
    if (state !== "ok") return { name: "Redis Cluster", url, ok: false, error: `cluster_state:${state}` };
    if (masters < 3) return { name: "Redis Cluster", url, ok: false, error: `${masters} masters, need 3` };
    return { name: "Redis Cluster", url, ok: true };
  } catch (error) {
    return { name: "Redis Cluster", url, ok: false, error: String(error) };
  } finally {
    client.disconnect();
  }
}

/** `select 1` on the PostgreSQL server, with a short timeout. */
export async function probePostgres(url = DATABASE_URL): Promise<Probe> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2000 });
  client.on("error", () => {});
  try {
    await client.connect();
    await client.query("select 1");
    return { name: "PostgreSQL", url, ok: true };
  } catch (error) {
    return { name: "PostgreSQL", url, ok: false, error: String(error) };
  } finally {
    await client.end().catch(() => {});
  }
}

/**
 * `describe` when the service answered. Otherwise: with CI set, a suite whose single test fails with the
 * probe's error; without CI, `describe.skip` and a console message saying how to run it.
 */
export function describeWithService(probe: Probe, title: string, body: () => void): void {
  if (probe.ok) {
    describe(title, body);
    return;
  }
  const why = `${probe.name} at ${probe.url} is unreachable (${probe.error ?? "no answer"})`;
  if (IN_CI) {
    describe(title, () => {
      it(`${probe.name} must be reachable in CI`, () => {
        throw new Error(`${why}; .ci/run starts it, or set the URL`);
      });
    });
    return;
  }
  console.warn(
    `\n[health-token tests] SKIPPING "${title}": ${why}. Start it or set the URL to run this suite.\n`,
  );
  describe.skip(title, body);
}
