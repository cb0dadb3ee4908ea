/**
 * Fault tests: the pool's backend connections are terminated (pg_terminate_backend) while attempts are in
 * flight. Calls reject with StoreUnavailableError, nothing reports `ok` without having consumed, no token is
 * consumed twice, and the pool works again afterwards.
 */
import pg from "pg";
import { afterAll, beforeAll, expect, it } from "vitest";
import { PostgresTokenStore } from "../../src/adapters/postgres.js";
import { StoreUnavailableError } from "../../src/errors.js";
import { attemptCorrect, settle, token } from "../helpers/fault-fixtures.js";
import { DATABASE_URL, describeWithService, probePostgres, uniqueName } from "../helpers/services.js";

const probe = await probePostgres();

describeWithService(probe, "PostgresTokenStore under faults", () => {
  const schema = uniqueName("pgfault");
  const app = uniqueName("app");
  const pool = new pg.Pool({ connectionString: DATABASE_URL, max: 5, application_name: app });
  const poolErrors: unknown[] = [];
  pool.on("error", (e) => poolErrors.push(e)); // terminated idle clients report here; required by pg
  const admin = new pg.Client({ connectionString: DATABASE_URL });
  // holds row locks in an open transaction (pg_stat_activity is snapshotted inside a transaction, so the
  // terminating is done by `admin`, outside of it)
  const locker = new pg.Client({ connectionString: DATABASE_URL });
  const store = new PostgresTokenStore({ pool, schema });
  const attempt = (i: number) => attemptCorrect(store, i);

  beforeAll(async () => {
    await admin.connect();
    await locker.connect();
    await store.migrate();
    for (let i = 0; i < 60; i++) await store.save(token(i));
  });
  afterAll(async () => {
    await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`).catch(() => {});
    await admin.end();
    await locker.end();
    await pool.end();
  });

  it("terminated backends: attempts reject with StoreUnavailableError, roll back, and the pool recovers", async () => {
    const before = await Promise.all(Array.from({ length: 20 }, (_, i) => settle(attempt(i))));
    for (const r of before) expect(r.ok && r.value.outcome).toBe("ok");

    // hold the rows of guides 20..39 so their attempts are in flight on the server, then kill the backends
    await locker.query("BEGIN");
    await locker.query(`SELECT guide_id FROM "${schema}".tokens WHERE guide_id = ANY($1) FOR UPDATE`, [
      Array.from({ length: 20 }, (_, i) => `guide-${20 + i}`),
    ]);
    let pending = 20;
    const racing = Array.from({ length: 20 }, (_, i) =>
      settle(attempt(20 + i)).finally(() => {
        pending--;
      }),
    );
    let terminated = 0;
    while (pending > 0) {
      const { rows } = await admin.query(
        "SELECT pid FROM pg_stat_activity WHERE application_name = $1 AND wait_event_type = 'Lock'",
        [app],
      );
      for (const { pid } of rows) {
        const r = await admin.query("SELECT pg_terminate_backend($1) AS done", [pid]);
        if (r.rows[0].done) terminated++;
      }
      await new Promise((r) => setTimeout(r, 20));
    }
    const during = await Promise.all(racing);
    await locker.query("ROLLBACK");
    expect(terminated).toBeGreaterThanOrEqual(4);
    for (const r of during) {
      expect(r.ok).toBe(false);
      const error = (r as { error: unknown }).error as StoreUnavailableError;
      expect(error).toBeInstanceOf(StoreUnavailableError);
      expect(error.message).toMatch(/^\[health-token\] \[postgres\] attempt failed/);
    }

    // nothing reported ok was left unconsumed; the killed attempts rolled back and consumed nothing
    for (let i = 0; i < 20; i++) expect((await store.get(`guide-${i}`))?.status).toBe("consumed");
    for (let i = 20; i < 40; i++) expect((await store.get(`guide-${i}`))?.status).toBe("active");
    // the pool recovers: each interrupted token is consumed exactly once now
    for (let i = 20; i < 40; i++) {
      expect((await attempt(i)).outcome).toBe("ok");
      expect((await attempt(i)).outcome).toBe("consumed");
    }
    const after = await Promise.all(Array.from({ length: 20 }, (_, i) => attempt(40 + i)));
    expect(after.every((r) => r.outcome === "ok")).toBe(true);
  });

  it("a connection terminated while idle surfaces on the pool, not as a wrong answer", async () => {
    await Promise.all(Array.from({ length: 5 }, () => store.get("guide-0"))); // fill the pool with idle clients
    await admin.query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1", [
      app,
    ]);
    await new Promise((r) => setTimeout(r, 100));
    // every call either succeeds on a fresh connection or rejects with StoreUnavailableError; none lies
    for (let i = 0; i < 10; i++) {
      const r = await settle(attempt(0));
      if (r.ok) expect(r.value.outcome).toBe("consumed");
      else expect(r.error).toBeInstanceOf(StoreUnavailableError);
    }
    expect((await store.get("guide-0"))?.status).toBe("consumed");
  });
});
