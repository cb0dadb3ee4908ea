import { readFileSync } from "node:fs";
import { PGlite } from "@electric-sql/pglite";
import fc from "fast-check";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  POSTGRES_SCHEMA_VERSION,
  PostgresTokenStore,
  postgresSchemaSql,
} from "../../src/adapters/postgres.js";
import { ConfigError, StoreUnavailableError } from "../../src/errors.js";
import { runStoreConformance } from "../../src/testing/store-conformance.js";
import { postgresInterrupter } from "../helpers/interrupt.js";
import { DATABASE_URL, describeWithService, probePostgres, uniqueName } from "../helpers/services.js";
import { contractOperations, seedScanData, T0, token } from "../helpers/store-ops.js";

const probe = await probePostgres();
const RETENTION_MS = 7 * 86_400_000;
const quote = (name: string) => `"${name.replaceAll('"', '""')}"`;

describe("postgresSchemaSql", () => {
  it("docs/sql/postgres.sql is exactly the generated SQL for the default schema", () => {
    const file = readFileSync(new URL("../../docs/sql/postgres.sql", import.meta.url), "utf8");
    expect(
      file,
      "docs/sql/postgres.sql is stale; regenerate it with: npx tsx -e 'import(\"./src/adapters/postgres.ts\").then((m) => process.stdout.write(m.postgresSchemaSql()))' > docs/sql/postgres.sql",
    ).toBe(postgresSchemaSql());
  });

  it("quotes the schema identifier and refuses names PostgreSQL would truncate", () => {
    expect(postgresSchemaSql('we"ird; drop')).toContain('CREATE SCHEMA IF NOT EXISTS "we""ird; drop";');
    expect(() => postgresSchemaSql("")).toThrow(ConfigError);
    expect(() => postgresSchemaSql("x".repeat(64))).toThrow(ConfigError);
    expect(() => postgresSchemaSql("a\u0000b")).toThrow(ConfigError);
    expect(() => new PostgresTokenStore({ pool: {} as never })).toThrow(ConfigError);
  });
});

describe("PostgresTokenStore on PGlite (in process)", () => {
  const db = new PGlite();
  afterAll(async () => {
    await db.close();
  });
  runStoreConformance({
    name: "PostgresTokenStore (PGlite)",
    createStore: async ({ namespace }) => {
      const store = new PostgresTokenStore({ pool: db, schema: namespace, eventRetentionMs: RETENTION_MS });
      await store.migrate();
      return store;
    },
    cleanup: async ({ namespace }) => {
      await db.exec(`DROP SCHEMA IF EXISTS ${quote(namespace)} CASCADE`);
    },
    capabilities: { eventRetentionMs: RETENTION_MS },
    test: { describe, it, expect },
  });
});

describeWithService(probe, "PostgresTokenStore (server)", () => {
  const pool = new pg.Pool({ connectionString: DATABASE_URL, max: 12 });
  pool.on("error", () => {});
  afterAll(async () => {
    await pool.end();
  });

  runStoreConformance({
    name: "PostgresTokenStore (pg Pool)",
    createStore: async ({ namespace }) => {
      const store = new PostgresTokenStore({ pool, schema: namespace, eventRetentionMs: RETENTION_MS });
      await store.migrate(); // idempotent; in the concurrency cases 4 instances migrate the same schema at once
      return store;
    },
    cleanup: async ({ namespace }) => {
      await pool.query(`DROP SCHEMA IF EXISTS ${quote(namespace)} CASCADE`);
    },
    capabilities: { eventRetentionMs: RETENTION_MS },
    interrupt: postgresInterrupter(pool, { eventRetentionMs: RETENTION_MS }),
    test: { describe, it, expect },
  });

  runStoreConformance({
    name: "PostgresTokenStore (pg Pool, named statements)",
    createStore: async ({ namespace }) => {
      const store = new PostgresTokenStore({
        pool,
        schema: namespace,
        eventRetentionMs: RETENTION_MS,
        namedStatements: true,
      });
      await store.migrate();
      return store;
    },
    cleanup: async ({ namespace }) => {
      await pool.query(`DROP SCHEMA IF EXISTS ${quote(namespace)} CASCADE`);
    },
    capabilities: { eventRetentionMs: RETENTION_MS },
    test: { describe, it, expect },
  });

  describe("PostgreSQL specifics", () => {
    const schema = `${uniqueName("pg")} "q'uoted"`;
    let queries: string[] = [];
    const counting = {
      query: (text: string, values?: unknown[]) => {
        queries.push(text);
        return pool.query(text, values);
      },
    };
    const store = new PostgresTokenStore({ pool: counting, schema, eventRetentionMs: RETENTION_MS });

    beforeAll(async () => {
      await store.migrate();
    });
    afterAll(async () => {
      await pool.query(`DROP SCHEMA IF EXISTS ${quote(schema)} CASCADE`);
    });

    it("migrate is idempotent, records the version and refuses a newer schema", async () => {
      await store.migrate();
      await Promise.all([store.migrate(), store.migrate(), store.migrate()]);
      expect(await store.schemaVersion()).toBe(POSTGRES_SCHEMA_VERSION);
      const { rows } = await pool.query(`SELECT count(*)::int AS n FROM ${quote(schema)}.schema_version`);
      expect(rows[0].n).toBe(1);
      const other = `${uniqueName("pgv")}`;
      const s2 = new PostgresTokenStore({ pool, schema: other });
      try {
        expect(await s2.schemaVersion()).toBeUndefined();
        await s2.migrate();
        await pool.query(`UPDATE ${quote(other)}.schema_version SET version = 99`);
        await expect(s2.migrate()).rejects.toBeInstanceOf(ConfigError);
      } finally {
        await pool.query(`DROP SCHEMA IF EXISTS ${quote(other)} CASCADE`);
      }
    });

    it("the shipped SQL file applies cleanly to a fresh database schema", async () => {
      const other = uniqueName("pgf");
      const sql = readFileSync(new URL("../../docs/sql/postgres.sql", import.meta.url), "utf8").replaceAll(
        '"health_token"',
        quote(other),
      );
      try {
        await pool.query(sql);
        await pool.query(sql);
        const s2 = new PostgresTokenStore({ pool, schema: other });
        await s2.save(token({ tokenId: "f-1" }));
        expect((await s2.get("guide-1"))?.tokenId).toBe("f-1");
      } finally {
        await pool.query(`DROP SCHEMA IF EXISTS ${quote(other)} CASCADE`);
      }
    });

    it("attempt and save are each one statement; every operation is one round trip", async () => {
      const ops = [
        ...contractOperations(store, token({ tokenId: "rt-2", guideId: "rt" }), T0, "e1"),
        ["purge", () => store.purge(T0)] as [string, () => Promise<unknown>],
      ];
      for (const [name, op] of ops) {
        queries = [];
        await op();
        expect({ name, roundTrips: queries.length }).toEqual({ name, roundTrips: 1 });
        expect(queries[0]!.includes(";")).toBe(false); // one statement, not a batch
      }
    });

    it("the lookups by guide and the purge by expiry use indexes", async () => {
      const s = quote(schema);
      // with sequential and bitmap scans disabled the planner picks a plain index scan whenever one serves the query
      const client = await pool.connect();
      try {
        const explain = async (sql: string) => {
          await client.query("SET enable_seqscan = off");
          await client.query("SET enable_bitmapscan = off");
          const { rows } = await client.query(`EXPLAIN ${sql}`);
          return rows.map((r: Record<string, string>) => r["QUERY PLAN"]).join("\n");
        };
        expect(await explain(`SELECT * FROM ${s}.tokens WHERE guide_id = 'g'`)).toMatch(/Index/);
        expect(await explain(`DELETE FROM ${s}.tokens WHERE expires_at_ms <= 5`)).toMatch(
          /tokens_expires_at_ms_idx/,
        );
        expect(await explain(`DELETE FROM ${s}.events WHERE at_ms < 5`)).toMatch(/events_at_ms_idx/);
        // the key serves the history page (backwards) and its cursor (event_id beside it, no table read)
        expect(
          await explain(
            `SELECT * FROM ${s}.events WHERE beneficiary_id = 'b' ORDER BY at_ms DESC, seq DESC LIMIT 10`,
          ),
        ).toMatch(/Index Scan Backward using events_pkey/);
        expect(
          await explain(
            `SELECT c.at_ms, c.seq FROM ${s}.events AS c WHERE c.beneficiary_id = 'b' AND c.event_id = 'e'
             ORDER BY c.seq DESC LIMIT 1`,
          ),
        ).toMatch(/Index Only Scan using events_pkey/);
        // each event insert maintains two indexes (version 5; four before)
        const { rows } = await client.query(
          `SELECT indexname FROM pg_indexes WHERE schemaname = $1 AND tablename = 'events' ORDER BY 1`,
          [schema],
        );
        expect(rows.map((r: { indexname: string }) => r.indexname)).toEqual([
          "events_at_ms_idx",
          "events_pkey",
        ]);
      } finally {
        await client.query("RESET ALL");
        client.release();
      }
    });

    it("no plaintext code or clear contact in any row after a save and its events", async () => {
      const { code, codeHash } = await seedScanData(store, "whatsapp");
      await store.increment("sends:scan-guide", 60_000, T0);
      await store.attempt({
        guideId: "scan-guide",
        providerId: "provider-1",
        candidateHash: "h1:nope",
        nowMs: T0,
      });
      const { rows: tables } = await pool.query(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = $1 ORDER BY 1",
        [schema],
      );
      expect(tables.map((t: { table_name: string }) => t.table_name)).toEqual([
        "app_secrets",
        "claims",
        "counters",
        "events",
        "schema_version",
        "tokens",
      ]);
      let text = "";
      for (const { table_name } of tables as { table_name: string }[]) {
        const { rows } = await pool.query(
          `SELECT row_to_json(x)::text AS j FROM ${quote(schema)}.${quote(table_name)} x`,
        );
        text += rows.map((r: { j: string }) => r.j).join("\n");
      }
      expect(text.includes(codeHash)).toBe(true);
      expect(text.includes(code)).toBe(false);
      expect(text.includes("+5543999990001")).toBe(false);
      expect(text.includes("99999-0001")).toBe(false);
    });

    it("property: arbitrary unicode ids round-trip and never collide", async () => {
      const id = fc
        .string({ unit: "grapheme", minLength: 0, maxLength: 40 })
        .filter((s) => !s.includes("\u0000"));
      let run = 0;
      await fc.assert(
        fc.asyncProperty(fc.uniqueArray(id, { minLength: 2, maxLength: 4 }), async (ids) => {
          run++;
          for (const [i, g] of ids.entries()) {
            await store.save(
              token({ tokenId: `p${run}-${i}`, guideId: g, providerId: g, codeHash: `h1:p${run}-${i}` }),
            );
          }
          for (const [i, g] of ids.entries()) {
            expect((await store.get(g))?.tokenId).toBe(`p${run}-${i}`);
            const r = await store.attempt({
              guideId: g,
              providerId: g,
              candidateHash: `h1:p${run}-${i}`,
              nowMs: T0,
            });
            expect(r.outcome).toBe("ok");
          }
        }),
        { numRuns: 25 },
      );
    });

    it("a backend error rejects with StoreUnavailableError (scope postgres) and the SQLSTATE only", async () => {
      const missing = new PostgresTokenStore({ pool, schema: uniqueName("absent") });
      const err = await missing
        .attempt({ guideId: "g", providerId: "p", candidateHash: "h1:secret", nowMs: T0 })
        .catch((e) => e);
      expect(err).toBeInstanceOf(StoreUnavailableError);
      expect(err.message).toBe("[health-token] [postgres] attempt failed (SQLSTATE 42P01)");
      const down = new PostgresTokenStore({
        pool: { query: () => Promise.reject(new Error("ECONNREFUSED")) },
      });
      await expect(down.get("g")).rejects.toBeInstanceOf(StoreUnavailableError);
      await expect(down.migrate()).rejects.toBeInstanceOf(StoreUnavailableError);
    });
  });
});
