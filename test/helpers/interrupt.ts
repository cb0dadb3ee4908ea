/**
 * The conformance kit's `interrupt` hooks of the Redis and PostgreSQL suites: each opens the step's store on a
 * connection of its own and cuts that connection while the step is in flight, at a point that varies with the
 * round (the way the adapters' own kill tests do it: `CLIENT KILL`, and `pg_terminate_backend` while the step
 * waits on a lock held by another session).
 */
import Redis, { Cluster } from "ioredis";
import pg from "pg";
import { createClient } from "redis";
import { PostgresTokenStore, type PostgresTokenStoreOptions } from "../../src/adapters/postgres.js";
import { RedisTokenStore } from "../../src/adapters/redis.js";
import type { StepInterrupter } from "../../src/testing/store-conformance.js";
import type { ClusterClient } from "./redis-cluster.js";
import { DATABASE_URL, REDIS_URL } from "./services.js";

const tick = () => new Promise<void>((resolve) => setImmediate(resolve));

/**
 * Redis (standalone): the step's store on a client of its own, with no retry and no resend. A script is atomic
 * on the server, so a cut lands before it or after it; the rounds take turns (`round % 4`):
 * 0. the step is sent behind a `BLPOP` that blocks the connection, then the connection is killed with
 *    `CLIENT KILL ID`: the server never runs the step;
 * 1. the client drops the connection right after sending the step: the server runs it, the reply is lost;
 * 2. `CLIENT KILL ID` after `round % 3` turns of the event loop: wherever it lands;
 * 3. `CLIENT KILL ID` once the step answered: nothing is cut.
 */
export function redisInterrupter(
  driver: "ioredis" | "node-redis",
  admin: (args: string[]) => Promise<unknown>,
  options: { readonly eventRetentionMs?: number | undefined } = {},
): StepInterrupter {
  return async ({ namespace, round, run }) => {
    let send: (args: string[]) => Promise<unknown>;
    let client: ConstructorParameters<typeof RedisTokenStore>[0]["client"];
    let drop: () => void;
    if (driver === "ioredis") {
      const victim = new Redis(REDIS_URL, {
        maxRetriesPerRequest: 0,
        autoResendUnfulfilledCommands: false,
        retryStrategy: () => null,
      });
      victim.on("error", () => {});
      send = (a) => victim.call(a[0]!, ...a.slice(1));
      client = victim;
      drop = () => victim.disconnect();
    } else {
      const victim = createClient({ url: REDIS_URL, socket: { reconnectStrategy: false } });
      victim.on("error", () => {});
      await victim.connect();
      send = (a) => victim.sendCommand(a);
      client = victim;
      drop = () => {
        if (victim.isOpen) victim.destroy();
      };
    }
    try {
      const id = String(await send(["CLIENT", "ID"]));
      const mode = round % 4;
      const blocked = mode === 0 ? send(["BLPOP", `${namespace}:never`, "0"]).catch(() => {}) : undefined;
      const settled = run(new RedisTokenStore({ client, prefix: namespace, ...options }));
      if (mode === 0) {
        await tick();
        await admin(["CLIENT", "KILL", "ID", id]);
        await blocked;
      } else if (mode === 1) {
        await tick();
        drop();
      } else if (mode === 2) {
        for (let i = 0; i < round % 3; i++) await tick();
        await admin(["CLIENT", "KILL", "ID", id]);
      } else {
        await settled;
        await admin(["CLIENT", "KILL", "ID", id]);
      }
      await settled;
    } finally {
      drop();
    }
  };
}

const quote = (name: string) => `"${name.replaceAll('"', '""')}"`;

/**
 * PostgreSQL (server): the step's store on a `pg.Client` of its own. Each round but every fifth, another
 * session first locks one of the tables (`events`, `counters`, `tokens`, `claims`, in turn) in EXCLUSIVE mode;
 * once the step waits on that lock (after its writes to the tables it reached first) or has settled without it,
 * its backend is terminated, then the lock is released. Every fifth round no lock is held and the backend is
 * terminated as soon as the step is sent. The function call is one transaction: terminated, it rolls back.
 */
export function postgresInterrupter(
  admin: pg.Pool,
  options: Omit<PostgresTokenStoreOptions, "pool" | "schema"> = {},
): StepInterrupter {
  const tables = ["events", "counters", "tokens", "claims", undefined] as const;
  return async ({ namespace, round, run }) => {
    const table = tables[round % tables.length];
    const victim = new pg.Client({ connectionString: DATABASE_URL });
    victim.on("error", () => {});
    await victim.connect();
    const holder = await admin.connect();
    let locked = false;
    try {
      const { rows } = await victim.query("SELECT pg_backend_pid() AS pid");
      const pid = Number(rows[0].pid);
      if (table !== undefined) {
        await holder.query("BEGIN");
        locked = true;
        await holder.query(`LOCK TABLE ${quote(namespace)}.${table} IN EXCLUSIVE MODE`);
      }
      let done = false;
      const settled = run(new PostgresTokenStore({ pool: victim, schema: namespace, ...options })).then(
        () => {
          done = true;
        },
      );
      if (table !== undefined) {
        for (let i = 0; i < 500 && !done; i++) {
          const waiting = await admin.query(
            "SELECT 1 FROM pg_stat_activity WHERE pid = $1 AND wait_event_type = 'Lock'",
            [pid],
          );
          if (waiting.rows.length > 0) break;
          await new Promise((resolve) => setTimeout(resolve, 2));
        }
      }
      await admin.query("SELECT pg_terminate_backend($1)", [pid]);
      await settled;
    } finally {
      if (locked) await holder.query("ROLLBACK");
      holder.release();
      await victim.end().catch(() => {});
    }
  };
}

/**
 * Redis Cluster: the step's store on a cluster client of its own, dropped (every node connection at once)
 * right after the step is sent, after one or three turns of the event loop, or once the step answered
 * (`round % 4`).
 */
export function redisClusterInterrupter(
  open: () => Promise<ClusterClient>,
  options: { readonly eventRetentionMs?: number | undefined } = {},
): StepInterrupter {
  return async ({ namespace, round, run }) => {
    const victim = await open();
    const c = victim.client;
    const drop = () => {
      if (c instanceof Cluster) c.disconnect();
      else if (c.isOpen) c.destroy();
    };
    try {
      const settled = run(new RedisTokenStore({ client: c, prefix: namespace, ...options }));
      const mode = round % 4;
      if (mode === 3) await settled;
      for (let i = 0; i < [0, 1, 3, 0][mode]!; i++) await tick();
      drop();
      await settled;
    } finally {
      drop();
    }
  };
}
