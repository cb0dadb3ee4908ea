/**
 * Production wiring with real clients: tokens in Redis (fast, expiring on their own) or in PostgreSQL (one
 * durable table set), both shared by every backend instance. The clients belong to you: create them, pass
 * them in, close them on shutdown.
 *
 *   REDIS_URL=redis://127.0.0.1:6379 DATABASE_URL=postgres://postgres@127.0.0.1:5432/test \
 *     npx tsx examples/redis-postgres.ts
 */
import { createTokenService, type TokenStore } from "health-token";
import { PostgresTokenStore } from "health-token/postgres";
import { RedisTokenStore } from "health-token/redis";
import { OutboxNotifier } from "health-token/testing";
import Redis from "ioredis";
import pg from "pg";

const redis = new Redis(process.env.REDIS_URL ?? "redis://127.0.0.1:6379", { maxRetriesPerRequest: 1 });
const pool = new pg.Pool({
  connectionString: process.env.DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/test",
  connectionTimeoutMillis: 2000, // never wait without bound: see docs/adapters.md, "Timeouts"
  lock_timeout: 1000,
  statement_timeout: 3000,
});
const run = `${Date.now().toString(36)}${Math.floor(Math.random() * 1e6).toString(36)}`;
const schema = `ht_example_${run}`;

async function attendance(name: string, store: TokenStore): Promise<void> {
  const outbox = new OutboxNotifier(); // in production: SmtpNotifier, WhatsAppNotifier, HttpSmsNotifier, …
  // The pepper must be the same on every instance and live outside the database (a secret manager).
  const tokens = createTokenService({
    store,
    notifier: outbox,
    pepper: process.env.HEALTH_TOKEN_PEPPER ?? "eX4mPl3vQ8zR2wN6tK0jH5cB9sL1dF7gY3aU8iO2qWe=", // openssl rand -base64 32
  });
  const beneficiary = {
    id: `BEN-${run}`,
    birthDate: "1970-01-20",
    contacts: [{ id: "m1", channel: "email" as const, address: "beneficiario.exemplo@example.org" }],
  };
  const guide = { id: `G-${name}-${run}`, providerId: "PRV-42" };
  const issued = await tokens.issue({ guide, beneficiary });
  const code = outbox.lastCodeFor(beneficiary.id);
  const first = await tokens.verify({ guideId: guide.id, providerId: guide.providerId, code });
  const again = await tokens.verify({ guideId: guide.id, providerId: guide.providerId, code });
  console.log(
    `${name}: sent to ${issued.deliveredTo}; first ${first.ok ? "ok" : first.reason}; again ${again.ok ? "ok" : again.reason}`,
  );
  if (!first.ok || again.ok || again.reason !== "consumed") throw new Error(`${name}: unexpected outcome`);
}

try {
  await attendance("redis", new RedisTokenStore({ client: redis, prefix: `ht-example-${run}:` }));
  const postgres = new PostgresTokenStore({ pool, schema });
  await postgres.migrate(); // idempotent; or apply docs/sql/postgres.sql with your migration tool
  await attendance("postgres", postgres);
} finally {
  const keys = await redis.keys(`ht-example-${run}:*`);
  if (keys.length > 0) await redis.del(...keys);
  await pool.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  redis.disconnect();
  await pool.end();
}
