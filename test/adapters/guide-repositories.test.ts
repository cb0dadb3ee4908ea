import { readFileSync } from "node:fs";
import { PGlite } from "@electric-sql/pglite";
import pg from "pg";
import { afterAll, describe, expect, it } from "vitest";
import {
  PostgresGuideRepository,
  PostgresTokenStore,
  postgresGuidesSchemaSql,
} from "../../src/adapters/postgres.js";
import {
  createGuide,
  GuideConflictError,
  type GuideRepository,
  GuideTransitionError,
  MemoryGuideRepository,
  type TokenStore,
} from "../../src/index.js";
import { adult, deskFixture, guideInput } from "../helpers/desk.js";
import { DATABASE_URL, describeWithService, probePostgres, uniqueName } from "../helpers/services.js";

const RACERS = 50;
const quote = (name: string) => `"${name.replaceAll('"', '""')}"`;

/** Counts the outcomes of settled racers by kind. */
function tally(results: PromiseSettledResult<unknown>[], won: (value: unknown) => boolean) {
  const print = process.env.PRINT_RACE === "1";
  const counts = { won: 0, conflict: 0, alreadyDone: 0, consumed: 0, other: [] as unknown[] };
  for (const r of results) {
    if (r.status === "fulfilled") {
      if (won(r.value)) counts.won++;
      else if ((r.value as { reason?: string }).reason === "consumed") counts.consumed++;
      else counts.other.push(r.value);
    } else if (r.reason instanceof GuideConflictError) counts.conflict++;
    else if (r.reason instanceof GuideTransitionError) counts.alreadyDone++;
    else counts.other.push(r.reason);
  }
  if (print) console.log(JSON.stringify({ ...counts, other: counts.other.length }));
  return counts;
}

/** The repository contract and the desk's races, on one repository. */
function raceSuite(name: string, make: () => Promise<{ guides: GuideRepository; store?: TokenStore }>) {
  describe(name, () => {
    it("saves with optimistic concurrency: version 0 creates, a stale version is refused", async () => {
      const { guides } = await make();
      const guide = createGuide(guideInput("R-1"));
      const record = { guide, beneficiaryId: "BEN-1", tokenRequired: true };
      expect(await guides.save(record, 0)).toEqual({ saved: true, version: 1 });
      expect(await guides.save(record, 0)).toEqual({ saved: false, currentVersion: 1 });
      expect(await guides.save(record, 1)).toEqual({ saved: true, version: 2 });
      expect(await guides.save(record, 1)).toEqual({ saved: false, currentVersion: 2 });
      expect(await guides.save(createGuideRecord("R-missing"), 3)).toEqual({ saved: false });
      const loaded = await guides.load("R-1");
      expect(loaded).toEqual({ ...record, version: 2 });
      expect(await guides.load("R-none")).toBeUndefined();
      await guides.save(
        {
          ...createGuideRecord("R-2"),
          guide: createGuide(guideInput("R-2", { provider: { code: "PRV-2" } })),
        },
        0,
      );
      expect(
        (await guides.list({ cardNumber: guide.beneficiary.cardNumber })).map((a) => a.guide.id).sort(),
      ).toEqual(["R-1", "R-2"]);
      expect(
        (await guides.list({ cardNumber: guide.beneficiary.cardNumber, providerCode: "PRV-2" })).length,
      ).toBe(1);
      expect(await guides.list({ cardNumber: "0000" })).toEqual([]);
    });

    it("keeps a dependent's code in the guardian's history on this store", async () => {
      const { guides, store } = await make();
      const { desk, tokens } = deskFixture({ guides, ...(store ? { store } : {}) });
      const minor = { id: "BEN-MINOR", birthDate: "2016-03-01", contacts: [] };
      await desk.open({ guide: guideInput("R-5"), beneficiaryId: minor.id });
      await desk.authorize({ guideId: "R-5", senha: "CO2026000005", validUntil: "2026-12-31" });
      await desk.requestToken({ guideId: "R-5", beneficiary: minor, guardian: adult("BEN-GUARDIAN") });
      const seen = await tokens.history("BEN-GUARDIAN");
      expect(seen.map((e) => [e.type, e.dependentId])).toEqual([
        ["token.delivered", "BEN-MINOR"],
        ["token.issued", "BEN-MINOR"],
      ]);
    });

    it(`${RACERS} concurrent confirms with the code: exactly one wins`, async () => {
      const { guides, store } = await make();
      const { desk, outbox } = deskFixture({ guides, ...(store ? { store } : {}) });
      await desk.open({ guide: guideInput("R-10"), beneficiaryId: "BEN-1" });
      await desk.authorize({ guideId: "R-10", senha: "CO2026000001", validUntil: "2026-12-31" });
      await desk.requestToken({ guideId: "R-10", beneficiary: adult() });
      const code = outbox.lastCodeFor("BEN-1")!;
      const results = await Promise.allSettled(
        Array.from({ length: RACERS }, () => desk.confirm({ guideId: "R-10", providerId: "PRV-1", code })),
      );
      const counts = tally(results, (v) => (v as { ok: boolean }).ok);
      expect(counts.other).toEqual([]);
      expect(counts.won).toBe(1);
      expect(counts.won + counts.consumed + counts.alreadyDone + counts.conflict).toBe(RACERS);
      const final = await desk.get("R-10");
      expect(final.guide.state).toBe("confirmed");
      expect(final.guide.history.filter((h) => h.event === "confirm")).toHaveLength(1);
    });

    it(`${RACERS} concurrent confirms without a token and ${RACERS} concurrent bills: one of each wins`, async () => {
      const { guides, store } = await make();
      const { desk } = deskFixture({ guides, ...(store ? { store } : {}) });
      await desk.open({ guide: guideInput("R-20"), beneficiaryId: "BEN-1" });
      await desk.authorize({ guideId: "R-20", senha: "CO2026000002", validUntil: "2026-12-31" });
      const absence = { reason: "02", justification: "urgência" } as const;
      const confirms = await Promise.allSettled(
        Array.from({ length: RACERS }, () =>
          desk.confirmWithoutToken({ guideId: "R-20", providerId: "PRV-1", absence }),
        ),
      );
      const c = tally(confirms, () => true);
      expect(c.other).toEqual([]);
      expect(c.won).toBe(1);
      expect(c.conflict + c.alreadyDone).toBe(RACERS - 1);
      const bills = await Promise.allSettled(
        Array.from({ length: RACERS }, (_, i) => desk.bill({ guideId: "R-20", batchId: `LOTE-${i}` })),
      );
      const b = tally(bills, () => true);
      expect(b.other).toEqual([]);
      expect(b.won).toBe(1);
      const final = await desk.get("R-20");
      expect(final.guide.state).toBe("billed");
      expect(final.guide.history.filter((h) => h.event === "bill")).toHaveLength(1);
      expect(final.version).toBe(4); // open, authorize, confirm, bill
    });
  });
}

function createGuideRecord(id: string) {
  return { guide: createGuide(guideInput(id)), beneficiaryId: "BEN-1", tokenRequired: true };
}

describe("postgresGuidesSchemaSql", () => {
  it("docs/sql/postgres-guides.sql is exactly the generated SQL for the default schema", () => {
    const file = readFileSync(new URL("../../docs/sql/postgres-guides.sql", import.meta.url), "utf8");
    expect(
      file,
      "docs/sql/postgres-guides.sql is stale; regenerate it with: npx tsx -e 'import(\"./src/adapters/postgres-guides.ts\").then((m) => process.stdout.write(m.postgresGuidesSchemaSql()))' > docs/sql/postgres-guides.sql",
    ).toBe(postgresGuidesSchemaSql());
  });
});

raceSuite("MemoryGuideRepository", async () => ({ guides: new MemoryGuideRepository() }));

const pglite = new PGlite();
afterAll(() => pglite.close());
raceSuite("PostgresGuideRepository on PGlite", async () => {
  const schema = uniqueName("guides");
  const guides = new PostgresGuideRepository({ pool: pglite, schema });
  await guides.migrate();
  await guides.migrate(); // idempotent
  const store = new PostgresTokenStore({ pool: pglite, schema });
  await store.migrate();
  return { guides, store };
});

const probe = await probePostgres();
describeWithService(probe, "PostgresGuideRepository (server)", () => {
  const pool = new pg.Pool({ connectionString: DATABASE_URL, max: 12 });
  pool.on("error", () => {});
  const schemas: string[] = [];
  afterAll(async () => {
    for (const s of schemas) await pool.query(`DROP SCHEMA IF EXISTS ${quote(s)} CASCADE`);
    await pool.end();
  });
  raceSuite("on a pool of 12 connections", async () => {
    const schema = uniqueName("guides");
    schemas.push(schema);
    const guides = new PostgresGuideRepository({ pool, schema });
    await guides.migrate();
    const store = new PostgresTokenStore({ pool, schema });
    await store.migrate();
    return { guides, store };
  });

  it("surfaces a broken connection as StoreUnavailableError", async () => {
    const broken = new PostgresGuideRepository({
      pool: { query: () => Promise.reject(Object.assign(new Error("boom"), { code: "57P01" })) },
    });
    await expect(broken.load("G")).rejects.toMatchObject({ code: "STORE_UNAVAILABLE" });
  });
});
