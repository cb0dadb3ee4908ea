/**
 * The PostgreSQL store through PgBouncer in transaction pooling mode, with the default options (unnamed
 * statements): the whole conformance kit, steps included, and a service's issue and verify. Runs when
 * `PGBOUNCER_URL` is set (`.ci/run` starts a PgBouncer on 127.0.0.1:6432); skipped otherwise, except under `CI=true`, where it fails.
 */
import pg from "pg";
import { afterAll, describe, expect, it } from "vitest";
import { PostgresTokenStore } from "../../src/adapters/postgres.js";
import { createTokenService } from "../../src/service/token-service.js";
import { FakeClock, OutboxNotifier } from "../../src/testing/fakes.js";
import { runStoreConformance } from "../../src/testing/store-conformance.js";
import { testPepper } from "../helpers/keys.js";
import { describeWithService, IN_CI, probePostgres, uniqueName } from "../helpers/services.js";

const PGBOUNCER_URL = process.env.PGBOUNCER_URL;
const RETENTION_MS = 7 * 86_400_000;
const quote = (name: string) => `"${name.replaceAll('"', '""')}"`;

if (PGBOUNCER_URL === undefined && IN_CI) {
  describe("PostgresTokenStore through PgBouncer", () => {
    it("has a PgBouncer (CI=true: .ci/run starts one and exports PGBOUNCER_URL)", () => {
      throw new Error("PGBOUNCER_URL is not set under CI=true: .ci/run did not start PgBouncer");
    });
  });
} else if (PGBOUNCER_URL === undefined) {
  console.warn(
    "\n[health-token tests] SKIPPING the PgBouncer suite: set PGBOUNCER_URL (a PgBouncer in transaction pooling mode).\n",
  );
  describe.skip("PostgresTokenStore through PgBouncer", () => {
    it("needs PGBOUNCER_URL", () => {});
  });
} else {
  const probe = { ...(await probePostgres(PGBOUNCER_URL)), name: "PgBouncer" };
  describeWithService(probe, "PostgresTokenStore through PgBouncer (transaction pooling)", () => {
    const pool = new pg.Pool({ connectionString: PGBOUNCER_URL, max: 8 });
    pool.on("error", () => {});
    afterAll(async () => {
      await pool.end();
    });

    runStoreConformance({
      name: "PostgresTokenStore (pg Pool through PgBouncer, defaults)",
      createStore: async ({ namespace }) => {
        const store = new PostgresTokenStore({ pool, schema: namespace, eventRetentionMs: RETENTION_MS });
        await store.migrate();
        return store;
      },
      cleanup: async ({ namespace }) => {
        await pool.query(`DROP SCHEMA IF EXISTS ${quote(namespace)} CASCADE`);
      },
      capabilities: { eventRetentionMs: RETENTION_MS },
      test: { describe, it, expect },
    });

    it("a service issues and verifies through it, one statement per step", async () => {
      const schema = uniqueName("pgb");
      const store = new PostgresTokenStore({ pool, schema });
      try {
        await store.migrate();
        const outbox = new OutboxNotifier();
        const tokens = createTokenService({
          store,
          notifier: outbox,
          pepper: testPepper("pgbouncer"),
          clock: new FakeClock(Date.UTC(2026, 10, 23, 12)),
        });
        const beneficiary = {
          id: "ben-pgb",
          birthDate: "1980-05-05",
          contacts: [{ id: "c1", channel: "sms" as const, address: "(41) 98888-0003" }],
        };
        await tokens.issue({ guide: { id: "g-pgb", providerId: "prov-1" }, beneficiary });
        const code = outbox.lastCodeForGuide("g-pgb");
        const results = await Promise.all(
          Array.from({ length: 20 }, () => tokens.verify({ guideId: "g-pgb", providerId: "prov-1", code })),
        );
        expect(results.filter((r) => r.ok)).toHaveLength(1);
        const events = await store.listEvents("ben-pgb", { limit: 100 });
        expect(events.filter((e) => e.type === "token.verified")).toHaveLength(1);
      } finally {
        await pool.query(`DROP SCHEMA IF EXISTS ${quote(schema)} CASCADE`);
      }
    });
  });
}
