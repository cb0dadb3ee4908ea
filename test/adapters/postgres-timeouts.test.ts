/**
 * A row lock held by another session must not freeze `verify`: with the pool settings docs/adapters.md
 * recommends (`lock_timeout`, `statement_timeout`), the call answers StoreUnavailableError, the token is left
 * as it was, and it verifies once the lock is gone.
 */
import pg from "pg";
import { afterAll, beforeAll, expect, it } from "vitest";
import { PostgresTokenStore } from "../../src/adapters/postgres.js";
import { StoreUnavailableError } from "../../src/errors.js";
import { createTokenService } from "../../src/service/token-service.js";
import { OutboxNotifier } from "../../src/testing/fakes.js";
import { testPepper } from "../helpers/keys.js";
import { DATABASE_URL, describeWithService, probePostgres, uniqueName } from "../helpers/services.js";

const probe = await probePostgres();

describeWithService(probe, "PostgresTokenStore with the documented timeouts", () => {
  const schema = uniqueName("pgtimeout");
  const pool = new pg.Pool({
    connectionString: DATABASE_URL,
    max: 4,
    connectionTimeoutMillis: 2000,
    lock_timeout: 300,
    statement_timeout: 3000,
  });
  pool.on("error", () => {});
  const locker = new pg.Client({ connectionString: DATABASE_URL });
  const store = new PostgresTokenStore({ pool, schema });
  const outbox = new OutboxNotifier();
  const tokens = createTokenService({ store, notifier: outbox, pepper: testPepper("timeouts") });
  const beneficiary = {
    id: "ben-lock",
    birthDate: "1985-02-10",
    contacts: [{ id: "sms-1", channel: "sms" as const, address: "(43) 99999-0001" }],
  };

  beforeAll(async () => {
    await locker.connect();
    await store.migrate();
  });
  afterAll(async () => {
    await locker.query("ROLLBACK").catch(() => {});
    await locker.end();
    await pool.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await pool.end();
  });

  it("a held row lock makes verify fail closed with StoreUnavailableError, not wait", async () => {
    await tokens.issue({ guide: { id: "G-LOCK", providerId: "P-1" }, beneficiary });
    const code = outbox.lastCodeFor("ben-lock")!;
    await locker.query("BEGIN");
    await locker.query(`SELECT 1 FROM "${schema}".tokens WHERE guide_id = $1 FOR UPDATE`, ["G-LOCK"]);
    const error = await tokens.verify({ guideId: "G-LOCK", providerId: "P-1", code }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(StoreUnavailableError);
    expect(String((error as StoreUnavailableError).message)).toContain("55P03");
    await locker.query("ROLLBACK");
    const token = await store.get("G-LOCK");
    expect(token).toMatchObject({ status: "active", attempts: 0 });
    expect((await tokens.verify({ guideId: "G-LOCK", providerId: "P-1", code })).ok).toBe(true);
  });
});
