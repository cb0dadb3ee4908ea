/**
 * The PostgreSQL store's intent-level steps (issue, verify, app begin/finish): one round trip each, counted on
 * the driver through a real token service; the same outcomes, counters, rows and events as the service's
 * composition of the fine-grained methods; atomic with their events when the connection is killed mid-step;
 * one `ok` of many concurrent correct verifications across pools. On a server and on PGlite.
 */
import { readFileSync } from "node:fs";
import { PGlite } from "@electric-sql/pglite";
import fc from "fast-check";
import * as OTPAuth from "otpauth";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { keyPart } from "../../src/_internal/text.js";
import { type PostgresPoolLike, PostgresTokenStore } from "../../src/adapters/postgres.js";
import { StoreUnavailableError } from "../../src/errors.js";
import type { DeliveryReceipt, Notifier, TokenMessage } from "../../src/ports/notifier.js";
import type { TokenStore } from "../../src/ports/store.js";
import { createTokenService, type TokenService } from "../../src/service/token-service.js";
import { FakeClock, OutboxNotifier, seededRandom } from "../../src/testing/fakes.js";
import { withoutSteps } from "../../src/testing/index.js";
import { testKeyBytes, testPepper } from "../helpers/keys.js";
import { DATABASE_URL, describeWithService, probePostgres, uniqueName } from "../helpers/services.js";
import { token } from "../helpers/store-ops.js";

const probe = await probePostgres();
const PEPPER = testPepper("postgres-steps");
const SECRETS_KEY = testKeyBytes("postgres-steps");
const T0 = Date.UTC(2026, 10, 23, 12);
const quote = (name: string) => `"${name.replaceAll('"', '""')}"`;
const HOSTILE = [
  "b\"'{x}",
  "{tag}",
  "b:1:2",
  "b 1",
  "ç-benef-ü 😀",
  "a%00b",
  "a%2500b",
  "x".repeat(128),
  "\\n",
];
/** The store with its steps hidden: the service then composes the fine-grained methods. */
const composed = withoutSteps;

/** A pool that counts the statements sent through it. */
function counted(pool: PostgresPoolLike): { pool: PostgresPoolLike; calls: () => number } {
  let calls = 0;
  const query = pool.query as (...args: unknown[]) => Promise<{ rows: unknown[] }>;
  return {
    pool: {
      query: (...args: unknown[]) => {
        calls++;
        return query.apply(pool, args);
      },
      ...(pool.exec ? { exec: (text: string) => pool.exec!(text) } : {}),
    } as PostgresPoolLike,
    calls: () => calls,
  };
}

/** A notifier that notes, at each send, how many statements the store had sent so far. */
class NotingNotifier implements Notifier {
  readonly outbox = new OutboxNotifier();
  readonly atSend: number[] = [];
  constructor(private readonly calls: () => number) {}
  send(message: TokenMessage): Promise<DeliveryReceipt> {
    this.atSend.push(this.calls());
    return this.outbox.send(message);
  }
}

function totpAt(secret: string, ms: number): string {
  return new OTPAuth.TOTP({ secret: OTPAuth.Secret.fromBase32(secret), digits: 6, period: 30 }).generate({
    timestamp: ms,
  });
}

function wrongAppCode(secret: string, ms: number, offset: number): string {
  const near = new Set([-1, 0, 1].map((d) => totpAt(secret, ms + d * 30_000)));
  let n = (Number(totpAt(secret, ms)) + 500_000 + offset) % 1_000_000;
  while (near.has(String(n).padStart(6, "0"))) n = (n + 1) % 1_000_000;
  return String(n).padStart(6, "0");
}

const person = (id: string, n = 1) => ({
  id,
  birthDate: "1980-05-05",
  contacts: [{ id: `c${n}`, channel: "sms" as const, address: `(41) 98888-${String(1000 + n)}` }],
});

function service(store: TokenStore, notifier: Notifier, clock: FakeClock, seed = 7): TokenService {
  return createTokenService({
    store,
    notifier,
    pepper: PEPPER,
    clock,
    random: seededRandom(seed),
    secretsKey: SECRETS_KEY,
    policy: { maxAttempts: 3, maxFailuresPerBeneficiary: 4, maxSendsPerGuide: 3, resendCooldownSeconds: 60 },
  });
}

/** A database to run the suites on: a schema maker and a raw query. */
interface Db {
  readonly pool: PostgresPoolLike;
  rows(sql: string): Promise<Record<string, unknown>[]>;
}

/** What an operation answered, or the code of what it threw. */
async function outcome(op: () => Promise<unknown>): Promise<unknown> {
  try {
    return await op();
  } catch (error) {
    return { threw: (error as { code?: string }).code ?? String(error) };
  }
}

/** One scripted scenario through a real service; returns the transcript of every answer. */
async function scenario(store: TokenStore): Promise<unknown[]> {
  const clock = new FakeClock(T0);
  const outbox = new OutboxNotifier();
  const tokens = service(store, outbox, clock);
  const [b1, b2, b3] = HOSTILE;
  const log: unknown[] = [];
  const run = async (op: () => Promise<unknown>) => log.push(await outcome(op));
  const issue = (guideId: string, beneficiary: ReturnType<typeof person>) =>
    run(() => tokens.issue({ guide: { id: guideId, providerId: "prov-1" }, beneficiary }));
  const verify = (guideId: string, code: string, providerId = "prov-1") =>
    run(() => tokens.verify({ guideId, providerId, code }));
  const g1 = `g1-${b1}`;
  await issue(g1, person(b1!));
  const c1 = outbox.lastCodeForGuide(g1);
  const wrong = (code: string) => String((Number(code) + 1) % 10 ** code.length).padStart(code.length, "0");
  await verify(g1, wrong(c1)); // mismatch, 2 left
  await verify(g1, c1, "prov-other"); // wrong_provider, 1 left
  await issue(g1, person(b1!)); // cooldown: refused
  clock.advance(61_000);
  await issue(g1, person(b1!)); // supersedes: token.revoked
  const c2 = outbox.lastCodeForGuide(g1);
  await verify(g1, c1); // superseded
  await verify(g1, wrong(c2)); // mismatch
  await verify(g1, wrong(c2)); // mismatch
  await verify(g1, wrong(c2)); // mismatch, 0 left: token.locked; the beneficiary's 4th failure
  await issue(`g2-${b1}`, person(b1!)); // locked_out
  await verify(g1, c2); // locked
  await verify("g-none", c2); // not_found
  // another beneficiary: ok, consumed, expired, sends per guide
  const g3 = `g3-${b2}`;
  await issue(g3, person(b2!, 2));
  const c3 = outbox.lastCodeForGuide(g3);
  await verify(g3, c3);
  await verify(g3, c3);
  for (let i = 0; i < 4; i++) {
    clock.advance(61_000);
    await issue(`g4-${b2}`, person(b2!, 2)); // the 4th: sends_per_guide
  }
  clock.advance(86_400_000);
  await verify(`g4-${b2}`, outbox.lastCodeForGuide(`g4-${b2}`)); // expired
  // a dependent without a contact: the guardian receives the code (a guardian's copy of token.issued)
  await run(() =>
    tokens.issue({
      guide: { id: `g5-${b3}`, providerId: "prov-1" },
      beneficiary: { id: `${b3}-dep`, birthDate: "2020-01-01", contacts: [] },
      guardian: person(`${b3}-guardian`, 3),
    }),
  );
  // app mode: mismatch, ok, replay, then the guide's attempts and the beneficiary's budget
  const { secret } = await tokens.enrollApp({ id: b3! });
  const app = (guideId: string, code: string) =>
    run(() => tokens.verifyAppCode({ guideId, providerId: "prov-1", beneficiaryId: b3!, code }));
  const now = clock.now();
  await app("ga-1", wrongAppCode(secret, now, 1));
  await app("ga-1", totpAt(secret, now));
  await app("ga-2", totpAt(secret, now));
  for (let i = 0; i < 6; i++) await app("ga-3", wrongAppCode(secret, now, i + 2));
  await app("ga-4", wrongAppCode(secret, now, 9)); // no enrolment
  await run(() =>
    tokens.verifyAppCode({ guideId: "ga-5", providerId: "prov-1", beneficiaryId: "nobody", code: "123456" }),
  );
  return log;
}

/** Every row the scenario may have written, in a comparable order (app secrets without their ciphertext). */
async function snapshot(db: Db, schema: string): Promise<Record<string, unknown[]>> {
  const s = quote(schema);
  return {
    tokens: await db.rows(`SELECT * FROM ${s}.tokens ORDER BY guide_id`),
    counters: await db.rows(`SELECT key, count::text, reset_at_ms::text FROM ${s}.counters ORDER BY key`),
    claims: await db.rows(`SELECT key, expires_at_ms::text FROM ${s}.claims ORDER BY key`),
    secrets: await db.rows(`SELECT beneficiary_id, key_id FROM ${s}.app_secrets ORDER BY beneficiary_id`),
    events: await db.rows(`SELECT beneficiary_id, event_id, at_ms::text, body FROM ${s}.events ORDER BY seq`),
  };
}

function suite(name: string, open: () => Promise<Db & { close(): Promise<void> }>): void {
  describe(name, () => {
    let db: Db & { close(): Promise<void> };
    const schemas: string[] = [];
    const fresh = async (pool?: PostgresPoolLike) => {
      const schema = uniqueName("steps");
      schemas.push(schema);
      const store = new PostgresTokenStore({ pool: pool ?? db.pool, schema });
      await store.migrate();
      return { store, schema };
    };
    beforeAll(async () => {
      db = await open();
    });
    afterAll(async () => {
      for (const schema of schemas) await db.rows(`DROP SCHEMA IF EXISTS ${quote(schema)} CASCADE`);
      await db.close();
    });

    it("ht_key_part is keyPart: hostile and arbitrary ids give the library's exact key", async () => {
      const { schema } = await fresh();
      const ids = [
        ...HOSTILE,
        "",
        "plain-ID_1.2~3",
        "%",
        "%%41",
        "\u2028\u2029",
        "日本語",
        "😀😀",
        "'; DROP --",
      ];
      ids.push(...fc.sample(fc.string({ unit: "grapheme", maxLength: 40 }), 60));
      for (const id of ids.filter((i) => !i.includes("\u0000"))) {
        const [row] = await db.rows(`SELECT ${quote(schema)}.ht_key_part(${sqlLiteral(id)}) AS k`);
        expect({ id, key: row?.k }).toEqual({ id, key: keyPart(id) });
      }
    });

    it("ht_verify_step (the previous release's call) answers as ht_verify: the same row and the same writes, outcome by outcome", async () => {
      // twin schemas, the same tokens and the same calls: one through ht_verify, one through ht_verify_step
      const twins = [await fresh(), await fresh()];
      const life = { issuedAtMs: T0, expiresAtMs: T0 + 30 * 60_000 };
      for (const { store } of twins) {
        await store.save(token({ ...life, tokenId: "t-ok", guideId: "g-ok", beneficiaryId: HOSTILE[0]! }));
        await store.save(token({ ...life, tokenId: "t-lock", guideId: "g-lock", maxAttempts: 2 }));
        await store.save(token({ ...life, tokenId: "t-late", guideId: "g-late" }));
      }
      const calls: [string, string, string, number][] = [
        ["g-none", "provider-1", "h1:x", T0],
        ["g-ok", "provider-1", "h1:wrong", T0 + 1],
        ["g-ok", "provider-2", "h1:t-ok", T0 + 2],
        ["g-ok", "provider-1", "h1:t-ok", T0 + 3],
        ["g-ok", "provider-1", "h1:t-ok", T0 + 4],
        ["g-lock", "provider-1", "h1:wrong", T0 + 5],
        ["g-lock", "provider-1", "h1:wrong", T0 + 6],
        ["g-lock", "provider-1", "h1:t-lock", T0 + 7],
        ["g-late", "provider-1", "h1:t-late", T0 + 31 * 60_000],
      ];
      const [a, b] = twins.map(({ schema }) => quote(schema));
      for (const [n, [guide, provider, hash, now]] of calls.entries()) {
        const args = `${sqlLiteral(guide)}, ${sqlLiteral(provider)}, ${sqlLiteral(hash)}, ${now}::bigint,
          60000::bigint, 'rl:pf:' || ${sqlLiteral(provider)}, 60000::bigint, 'e-${n}', 'l-${n}'`;
        const [array] = await db.rows(`SELECT ${a}.ht_verify(${args}) AS r`);
        const rows = await db.rows(`SELECT * FROM ${b}.ht_verify_step(${args})`);
        const r = (array as { r: (string | null)[] | null }).r;
        if (r === null) {
          expect(rows, guide).toEqual([]);
          continue;
        }
        expect(rows, `${n}: ${guide}`).toHaveLength(1);
        // the set's typed columns, read back as text (pg hands bigint over as text, integer as a number)
        expect(
          Object.values(rows[0]!).map((v) => (v === null ? null : String(v))),
          `${n}: ${guide}`,
        ).toEqual(r);
      }
      const [left, right] = await Promise.all(twins.map(({ schema }) => snapshot(db, schema)));
      expect(right).toEqual(left);
      expect(left!.events!.length).toBeGreaterThan(5);
    });

    it("a schema at version 3 with data migrates to version 5: rows kept, pages with room, the steps on old rows", async () => {
      const schema = uniqueName("stepsv3");
      schemas.push(schema);
      const v3 = readFileSync(new URL("../fixtures/postgres/schema-v3.sql", import.meta.url), "utf8");
      const sql = v3.replaceAll('"health_token"', quote(schema));
      await (db.pool.exec ? db.pool.exec(sql) : db.pool.query(sql));
      const store = new PostgresTokenStore({ pool: db.pool, schema });
      expect(await store.schemaVersion()).toBe(3);
      const clock = new FakeClock(T0);
      const outbox = new OutboxNotifier();
      // before the migration through the statements (this release's verify step needs version 5's ht_verify)
      const early = service(composed(store), outbox, clock);
      const tokens = service(store, outbox, clock);
      await early.issue({ guide: { id: "g-v3", providerId: "prov-1" }, beneficiary: person(HOSTILE[0]!) });
      const code = outbox.lastCodeForGuide("g-v3");
      const wrong = code === "000000" ? "000001" : "000000";
      expect(await early.verify({ guideId: "g-v3", providerId: "prov-1", code: wrong })).toMatchObject({
        ok: false,
      });
      const before = await snapshot(db, schema);
      await store.migrate();
      expect(await store.schemaVersion()).toBe(5);
      expect(await snapshot(db, schema)).toEqual(before);
      const options = await db.rows(
        `SELECT c.relname, c.reloptions FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
         WHERE n.nspname = ${sqlLiteral(schema)} AND c.relname IN ('tokens', 'counters') ORDER BY c.relname`,
      );
      expect(options).toEqual([
        { relname: "counters", reloptions: ["fillfactor=70"] },
        { relname: "tokens", reloptions: ["fillfactor=70"] },
      ]);
      // the current functions on the rows version 3 wrote: a second failure, then the right code
      expect(await tokens.verify({ guideId: "g-v3", providerId: "prov-1", code: wrong })).toMatchObject({
        ok: false,
      });
      expect((await tokens.verify({ guideId: "g-v3", providerId: "prov-1", code })).ok).toBe(true);
      const after = await snapshot(db, schema);
      expect(after.tokens).toMatchObject([{ guide_id: "g-v3", status: "consumed", attempts: 2 }]);
      expect(after.counters).toContainEqual(
        expect.objectContaining({ key: `rl:bf:${keyPart(HOSTILE[0]!)}`, count: "2" }),
      );
      const types = after
        .events!.slice(before.events!.length)
        .map((e) => JSON.parse((e as { body: string }).body).type);
      expect(types).toEqual(["token.rejected", "token.verified"]);
    });

    /** The indexes of a schema's events table, as `name: definition` without the schema. */
    const eventIndexes = async (schema: string) =>
      (
        await db.rows(
          `SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = ${sqlLiteral(schema)}
           AND tablename = 'events' ORDER BY indexname`,
        )
      ).map((r) => `${r.indexname}: ${String(r.indexdef).replace(/^.* USING /, "")}`);

    for (const prebuilt of [false, true]) {
      it(`a schema at version 4 with events migrates to version 5${prebuilt ? " (its new key built beforehand)" : ""}: two event indexes, rows and pages kept, the version 4 call still answers`, async () => {
        const schema = uniqueName("stepsv4");
        schemas.push(schema);
        const v4 = readFileSync(new URL("../fixtures/postgres/schema-v4.sql", import.meta.url), "utf8");
        const sql = v4.replaceAll('"health_token"', quote(schema));
        await (db.pool.exec ? db.pool.exec(sql) : db.pool.query(sql));
        const store = new PostgresTokenStore({ pool: db.pool, schema });
        expect(await store.schemaVersion()).toBe(4);
        expect(await eventIndexes(schema)).toHaveLength(4);
        const clock = new FakeClock(T0);
        const outbox = new OutboxNotifier();
        // before the migration: version 4's issue step, and verifications through the statements (this
        // release's verify step needs version 5's ht_verify)
        const early = service(composed(store), outbox, clock);
        const tokens = service(store, outbox, clock);
        const b = HOSTILE[0]!;
        for (let i = 0; i < 3; i++) {
          await tokens.issue({ guide: { id: `g-v4-${i}`, providerId: "prov-1" }, beneficiary: person(b) });
          const code = outbox.lastCodeForGuide(`g-v4-${i}`);
          await early.verify({
            guideId: `g-v4-${i}`,
            providerId: "prov-1",
            code: code === "000000" ? "000001" : "000000",
          });
        }
        const before = await snapshot(db, schema);
        const all = await store.listEvents(b, { limit: 100 });
        expect(all.length).toBeGreaterThan(4);
        const page = await store.listEvents(b, { limit: 3, before: all[2]!.id });
        if (prebuilt) {
          await db.rows(
            `CREATE UNIQUE INDEX events_key_idx ON ${quote(schema)}.events (beneficiary_id, at_ms, seq) INCLUDE (event_id)`,
          );
        }
        await store.migrate();
        expect(await store.schemaVersion()).toBe(5);
        expect(await snapshot(db, schema)).toEqual(before);
        expect(await eventIndexes(schema)).toEqual([
          "events_at_ms_idx: btree (at_ms)",
          "events_pkey: btree (beneficiary_id, at_ms, seq) INCLUDE (event_id)",
        ]);
        expect(await store.listEvents(b, { limit: 100 })).toEqual(all);
        expect(await store.listEvents(b, { limit: 3, before: all[2]!.id })).toEqual(page);
        await store.migrate(); // again: nothing left to change
        expect(await snapshot(db, schema)).toEqual(before);
        // an instance of the previous release calls ht_verify_step: it still answers, on the new key
        const [old] = await db.rows(
          `SELECT * FROM ${quote(schema)}.ht_verify_step('g-v4-0', 'prov-1', 'h1:x', ${T0}::bigint, 60000::bigint,
            'rl:pf:prov-1', 60000::bigint, 'ev-old', 'ev-old-l')`,
        );
        expect(old).toMatchObject({ r_outcome: "mismatch", r_beneficiary_id: b });
        const code = outbox.lastCodeForGuide("g-v4-1");
        expect((await tokens.verify({ guideId: "g-v4-1", providerId: "prov-1", code })).ok).toBe(true);
        const newest = await store.listEvents(b, { limit: 2 });
        expect(newest.map((e) => e.type)).toEqual(["token.verified", "token.rejected"]);
      });
    }

    it("round trips: issue up to the first delivery try 1, verify 1, app begin and finish 1 each", async () => {
      const counts = async (hide: boolean) => {
        const watch = counted(db.pool);
        const { store } = await fresh(watch.pool);
        const notifier = new NotingNotifier(watch.calls);
        const clock = new FakeClock(T0);
        const tokens = service(hide ? composed(store) : store, notifier, clock);
        const beneficiary = person(HOSTILE[0]!);
        let before = watch.calls();
        await tokens.issue({ guide: { id: "g-rt", providerId: "prov-1" }, beneficiary });
        const issue = notifier.atSend[0]! - before;
        const code = notifier.outbox.lastCodeForGuide("g-rt");
        const verify = async (c: string) => {
          before = watch.calls();
          await tokens.verify({ guideId: "g-rt", providerId: "prov-1", code: c });
          return watch.calls() - before;
        };
        const wrong = await verify(code === "000000" ? "000001" : "000000");
        const right = await verify(code);
        const { secret } = await tokens.enrollApp({ id: beneficiary.id });
        before = watch.calls();
        const app = await tokens.verifyAppCode({
          guideId: "g-app",
          providerId: "prov-1",
          beneficiaryId: beneficiary.id,
          code: totpAt(secret, clock.now()),
        });
        expect(app.ok).toBe(true);
        return { issue, wrong, right, app: watch.calls() - before };
      };
      const steps = await counts(false);
      const fine = await counts(true);
      expect(steps).toEqual({ issue: 1, wrong: 1, right: 1, app: 2 });
      // the composed form, for the record (the numbers of issue #11): more of each
      expect(fine.issue).toBeGreaterThan(steps.issue);
      expect(fine.wrong).toBeGreaterThan(steps.wrong);
      expect(fine.right).toBeGreaterThan(steps.right);
      expect(fine.app).toBeGreaterThan(steps.app);
      console.info(`round trips, composed: ${JSON.stringify(fine)}; steps: ${JSON.stringify(steps)}`);
    });

    it("the steps answer, count and record exactly as the composed methods (rows, bytes, events)", async () => {
      const stepped = await fresh();
      const plain = await fresh();
      const a = await scenario(stepped.store);
      const b = await scenario(composed(plain.store));
      expect(a).toEqual(b);
      // the scenario went through every outcome
      const text = JSON.stringify(a);
      for (const needle of [
        "mismatch",
        "wrong_provider",
        "superseded",
        "locked",
        "not_found",
        "consumed",
        "expired",
        "RATE_LIMITED",
        "LOCKED_OUT",
      ]) {
        expect(text).toContain(needle);
      }
      const [sa, sb] = [await snapshot(db, stepped.schema), await snapshot(db, plain.schema)];
      expect(sa).toEqual(sb);
      const types = sa.events!.map((e) => JSON.parse((e as { body: string }).body).type);
      for (const type of [
        "token.revoked",
        "token.locked",
        "token.verified",
        "token.rejected",
        "token.issued",
      ]) {
        expect(types).toContain(type);
      }
      expect(sa.events!.some((e) => JSON.parse((e as { body: string }).body).dependentId)).toBe(true);
      for (const id of [...HOSTILE, `${HOSTILE[2]}-guardian`, `${HOSTILE[2]}-dep`]) {
        const events = await stepped.store.listEvents(id, { limit: 1000 });
        expect(events).toEqual(await plain.store.listEvents(id, { limit: 1000 }));
      }
    });
  });
}

/** A SQL string literal (standard_conforming_strings). */
function sqlLiteral(text: string): string {
  return `'${text.replaceAll("'", "''")}'`;
}

suite("PostgreSQL steps on PGlite", async () => {
  const lite = new PGlite();
  return {
    pool: lite,
    rows: async (sql) => (await lite.query<Record<string, unknown>>(sql)).rows,
    close: () => lite.close(),
  };
});

describeWithService(probe, "PostgreSQL steps on a server", () => {
  suite("pg Pool", async () => {
    const pool = new pg.Pool({ connectionString: DATABASE_URL, max: 8 });
    pool.on("error", () => {});
    return {
      pool,
      rows: async (sql) => (await pool.query(sql)).rows,
      close: () => pool.end(),
    };
  });
});

describeWithService(probe, "PostgreSQL steps: atomicity and concurrency (server)", () => {
  const admin = new pg.Pool({ connectionString: DATABASE_URL, max: 4 });
  admin.on("error", () => {});
  const schema = uniqueName("stepsx");
  const s = quote(schema);
  beforeAll(async () => {
    await new PostgresTokenStore({ pool: admin, schema }).migrate();
  });
  afterAll(async () => {
    await admin.query(`DROP SCHEMA IF EXISTS ${s} CASCADE`);
    await admin.end();
  });

  /** A store on its own connection, and that connection's backend pid. */
  const onClient = async () => {
    const client = new pg.Client({ connectionString: DATABASE_URL });
    client.on("error", () => {});
    await client.connect();
    const { rows } = await client.query("SELECT pg_backend_pid() AS pid");
    return { client, pid: Number(rows[0].pid), store: new PostgresTokenStore({ pool: client, schema }) };
  };

  /**
   * Runs `step` on its own connection while `hold` (run in a transaction on another connection) keeps what the
   * step needs after its first write; once the step waits on that lock its backend is terminated, then the
   * holder rolls back. Returns the step's settled result.
   */
  const killMidStep = async (hold: string, step: (store: PostgresTokenStore) => Promise<unknown>) => {
    const holder = await admin.connect();
    const victim = await onClient();
    try {
      await holder.query("BEGIN");
      await holder.query(hold);
      const running = step(victim.store).then(
        (value) => ({ value }),
        (error: unknown) => ({ error }),
      );
      let waiting = false;
      for (let i = 0; i < 200 && !waiting; i++) {
        const { rows } = await admin.query(
          "SELECT wait_event_type FROM pg_stat_activity WHERE pid = $1 AND wait_event_type = 'Lock'",
          [victim.pid],
        );
        waiting = rows.length > 0;
        if (!waiting) await new Promise((r) => setTimeout(r, 10));
      }
      expect(waiting).toBe(true);
      await admin.query("SELECT pg_terminate_backend($1)", [victim.pid]);
      const settled = await running;
      await holder.query("ROLLBACK");
      return settled;
    } finally {
      holder.release();
      await victim.client.end().catch(() => {});
    }
  };

  const clock = () => new FakeClock(T0);
  const issueWith = async (store: TokenStore, guideId: string, beneficiaryId: string, seed: number) => {
    const outbox = new OutboxNotifier();
    const tokens = service(store, outbox, clock(), seed);
    await tokens.issue({ guide: { id: guideId, providerId: "prov-1" }, beneficiary: person(beneficiaryId) });
    return { tokens, code: outbox.lastCodeForGuide(guideId) };
  };
  const bodies = async (beneficiaryId: string) =>
    (
      await admin.query(`SELECT body FROM ${s}.events WHERE beneficiary_id = $1 ORDER BY seq`, [
        beneficiaryId,
      ])
    ).rows.map((r: { body: string }) => JSON.parse(r.body) as { type: string; tokenId?: string });

  it("verify killed after consuming the token, before its event: neither happened; then it verifies", async () => {
    const store = new PostgresTokenStore({ pool: admin, schema });
    const { code } = await issueWith(store, "gx-ok", "bx-ok", 11);
    const settled = await killMidStep(`LOCK TABLE ${s}.events IN EXCLUSIVE MODE`, (victim) =>
      service(victim, new OutboxNotifier(), clock()).verify({ guideId: "gx-ok", providerId: "prov-1", code }),
    );
    expect((settled as { error?: unknown }).error).toBeInstanceOf(StoreUnavailableError);
    expect((await store.get("gx-ok"))?.status).toBe("active");
    expect((await bodies("bx-ok")).map((e) => e.type)).not.toContain("token.verified");
    // the same code, on a live connection: consumed AND token.verified, together
    const tokens = service(store, new OutboxNotifier(), clock());
    expect((await tokens.verify({ guideId: "gx-ok", providerId: "prov-1", code })).ok).toBe(true);
    expect((await store.get("gx-ok"))?.status).toBe("consumed");
    expect((await bodies("bx-ok")).filter((e) => e.type === "token.verified")).toHaveLength(1);
  });

  it("verify killed while charging the beneficiary's failure: the attempt is not counted, no event", async () => {
    const store = new PostgresTokenStore({ pool: admin, schema });
    const { code } = await issueWith(store, "gx-mm", "bx-mm", 12);
    await store.increment("rl:bf:bx-mm", 86_400_000, T0); // the counter row exists: its lock can be held
    const wrong = code === "000000" ? "000001" : "000000";
    const settled = await killMidStep(
      `SELECT * FROM ${s}.counters WHERE key = 'rl:bf:bx-mm' FOR UPDATE`,
      (victim) =>
        service(victim, new OutboxNotifier(), clock()).verify({
          guideId: "gx-mm",
          providerId: "prov-1",
          code: wrong,
        }),
    );
    expect((settled as { error?: unknown }).error).toBeInstanceOf(StoreUnavailableError);
    expect((await store.get("gx-mm"))?.attempts).toBe(0);
    expect((await store.peek("rl:bf:bx-mm", T0)).count).toBe(1);
    expect((await bodies("bx-mm")).map((e) => e.type)).not.toContain("token.rejected");
  });

  it("issue killed after the save, before its events: the old token stays, no counter hit, no event", async () => {
    const store = new PostgresTokenStore({ pool: admin, schema });
    await issueWith(store, "gx-is", "bx-is", 13);
    const first = await store.get("gx-is");
    const sends = await store.peek("rl:sg:gx-is", T0 + 61_000);
    const settled = await killMidStep(`LOCK TABLE ${s}.events IN EXCLUSIVE MODE`, async (victim) => {
      const later = new FakeClock(T0 + 61_000);
      const tokens = service(victim, new OutboxNotifier(), later, 14);
      return tokens.issue({ guide: { id: "gx-is", providerId: "prov-1" }, beneficiary: person("bx-is") });
    });
    expect((settled as { error?: unknown }).error).toBeInstanceOf(StoreUnavailableError);
    expect(await store.get("gx-is")).toEqual(first);
    expect(await store.peek("rl:sg:gx-is", T0 + 61_000)).toEqual(sends);
    const events = await bodies("bx-is");
    expect(events.filter((e) => e.type === "token.issued")).toHaveLength(1);
    expect(events.map((e) => e.type)).not.toContain("token.revoked");
    // saved AND issued, together, on a live connection
    const tokens = service(store, new OutboxNotifier(), new FakeClock(T0 + 61_000), 15);
    await tokens.issue({ guide: { id: "gx-is", providerId: "prov-1" }, beneficiary: person("bx-is") });
    const after = await store.get("gx-is");
    expect(after?.tokenId).not.toBe(first?.tokenId);
    const issued = (await bodies("bx-is")).filter((e) => e.type === "token.issued").map((e) => e.tokenId);
    expect(issued).toEqual([first?.tokenId, after?.tokenId]);
  });

  it("40 concurrent correct verifications over 4 pools: exactly one ok, one token.verified", async () => {
    const pools = Array.from({ length: 4 }, () => {
      const pool = new pg.Pool({ connectionString: DATABASE_URL, max: 6 });
      pool.on("error", () => {});
      return pool;
    });
    try {
      const store = new PostgresTokenStore({ pool: admin, schema });
      const { code } = await issueWith(store, "gx-cc", "bx-cc", 16);
      const services = pools.map((pool, i) =>
        service(new PostgresTokenStore({ pool, schema }), new OutboxNotifier(), clock(), 100 + i),
      );
      const results = await Promise.all(
        Array.from({ length: 40 }, (_, i) =>
          services[i % 4]!.verify({ guideId: "gx-cc", providerId: "prov-1", code }),
        ),
      );
      expect(results.filter((r) => r.ok)).toHaveLength(1);
      expect(results.filter((r) => !r.ok && r.reason === "consumed")).toHaveLength(39);
      const events = await bodies("bx-cc");
      expect(events.filter((e) => e.type === "token.verified")).toHaveLength(1);
      expect(events.filter((e) => e.type === "token.rejected")).toHaveLength(39);
    } finally {
      await Promise.all(pools.map((pool) => pool.end()));
    }
  });
});
