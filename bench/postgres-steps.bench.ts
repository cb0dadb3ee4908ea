/**
 * PostgreSQL steps benchmark: `verifyStep` (a wrong code: the attempt, the beneficiary's failure counter and the
 * `token.rejected` event, one function call) and `issueStep` (limits, save, events) at 32 concurrent callers,
 * beside a one-row `UPDATE` through the same pool in the same run; p50/p99 of `verifyStep` at 1, 8 and 32
 * callers. Each runs with unnamed statements (the default) and with `namedStatements: true`, directly on the
 * server and through PgBouncer in transaction pooling mode when one answers at `PGBOUNCER_URL` (default
 * `postgres://postgres@127.0.0.1:6432/test`; skipped with a note otherwise).
 *
 * Run alone: `BENCH_ONLY=postgres-steps npx tsx bench/index.ts`.
 */
import pg from "pg";
import { PostgresTokenStore } from "../src/adapters/postgres.js";
import type { NewToken, TokenStore } from "../src/ports/store.js";
import type { VerifyStepInput } from "../src/ports/store-steps.js";
import { runVerifyStep } from "../src/service/_steps.js";

const DATABASE_URL = process.env.DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/test";
const PGBOUNCER_URL = process.env.PGBOUNCER_URL ?? "postgres://postgres@127.0.0.1:6432/test";
const CALLERS = 32;
const TARGET_RATIO = 0.6;
const T0 = 1_790_000_000_000;

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

function quantile(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

/** Ops/s of `op(caller)` by `callers` loops for `durationMs`, and every latency (ms). */
async function run(op: (caller: number) => Promise<unknown>, callers: number, durationMs: number) {
  let done = 0;
  const latencies: number[] = [];
  const start = performance.now();
  const deadline = start + durationMs;
  await Promise.all(
    Array.from({ length: callers }, async (_, caller) => {
      while (performance.now() < deadline) {
        const t = performance.now();
        await op(caller);
        latencies.push(performance.now() - t);
        done++;
      }
    }),
  );
  return { ops: done / ((performance.now() - start) / 1000), latencies };
}

function token(prefix: string, caller: number, n: number): NewToken {
  return {
    tokenId: `${prefix}-t-${caller}-${n}`,
    guideId: `${prefix}-g-${caller}`,
    providerId: "provider-1",
    beneficiaryId: `b-${caller}`,
    codeHash: `h1:${"ab".repeat(32)}`,
    issuedAtMs: T0,
    expiresAtMs: T0 + 30 * 60_000,
    maxAttempts: 1_000_000_000,
    channel: "sms",
  };
}

interface Measured {
  readonly name: string;
  readonly note?: string;
  readonly verifyOps?: number;
  /** The same verification composed from the fine-grained methods (before the steps). */
  readonly composedVerifyOps?: number;
  readonly issueOps?: number;
  readonly baselineOps?: number;
  readonly verifyRatio?: number;
  readonly issueRatio?: number;
  readonly latency?: readonly { callers: number; p50: number; p99: number }[];
}

async function measure(
  name: string,
  url: string,
  named: boolean,
  quick: boolean,
  options?: string,
): Promise<Measured> {
  const pool = new pg.Pool({ connectionString: url, max: 8, connectionTimeoutMillis: 2000, options });
  pool.on("error", () => {});
  try {
    await pool.query("select 1");
  } catch (error) {
    await pool.end().catch(() => {});
    return { name, note: `skipped: ${url} unreachable (${String(error).slice(0, 60)})` };
  }
  const schema = `htbench_steps_${Date.now().toString(36)}`;
  const store = new PostgresTokenStore({ pool, schema, namedStatements: named });
  try {
    await store.migrate();
    for (let i = 0; i < CALLERS; i++) await store.save(token(schema, i, 0));
    await pool.query(`CREATE TABLE "${schema}".baseline (id integer PRIMARY KEY, n bigint NOT NULL)`);
    await pool.query(
      `INSERT INTO "${schema}".baseline SELECT g, 0 FROM generate_series(0, ${CALLERS - 1}) g`,
    );
    const update = `UPDATE "${schema}".baseline SET n = n + 1 WHERE id = $1`;
    const baseline = named
      ? (caller: number) => pool.query({ name: `${schema}_baseline`, text: update, values: [caller] })
      : (caller: number) => pool.query(update, [caller]);
    let seq = 0;
    const verifyInput = (caller: number): VerifyStepInput => ({
      guideId: `${schema}-g-${caller}`,
      providerId: "provider-1",
      candidateHash: "h1:x",
      nowMs: T0,
      failureWindowMs: 60_000,
      providerFailures: { key: "rl:pf:provider-1", windowMs: 60_000 },
      eventIds: [`v${seq++}`, `l${seq}`],
    });
    const verify = (caller: number) => store.verifyStep(verifyInput(caller));
    // before the steps: the service composing attempt, increment and appendEvent (3 statements, 3 commits)
    const fine = Object.fromEntries(
      (["attempt", "increment", "appendEvent", "peek", "save"] as const).map((m) => [
        m,
        store[m].bind(store),
      ]),
    ) as unknown as TokenStore;
    const composedVerify = (caller: number) => runVerifyStep(fine, verifyInput(caller));
    const issue = (caller: number) => {
      const n = ++seq;
      const t = token(schema, caller, n);
      return store.issueStep({
        token: t,
        failures: { key: `rl:bf:b-${caller}`, max: 1_000_000_000, windowMs: 60_000 },
        sends: { key: `rl:sg:${t.guideId}`, max: 1_000_000_000, windowMs: 60_000 },
        revokedEvent: { id: `r${n}`, type: "token.revoked", atMs: T0, beneficiaryId: t.beneficiaryId },
        issuedEvents: [
          { id: `i${n}`, type: "token.issued", atMs: T0, beneficiaryId: t.beneficiaryId, tokenId: t.tokenId },
        ],
      });
    };
    try {
      return { name, ...(await rounds(verify, issue, baseline, composedVerify, quick)) };
    } catch (error) {
      const cause = (error as { cause?: unknown }).cause;
      return { name, note: `fails: ${String(cause ?? error).slice(0, 90)}` };
    }
  } finally {
    const direct = new pg.Pool({ connectionString: DATABASE_URL, max: 1 });
    direct.on("error", () => {});
    await direct.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`).catch(() => {});
    await direct.end();
    await pool.end();
  }
}

type Op = (caller: number) => Promise<unknown>;

async function rounds(verify: Op, issue: Op, baseline: Op, composedVerify: Op, quick: boolean) {
  {
    const durationMs = quick ? 300 : 1000;
    await run(verify, CALLERS, 200);
    await run(composedVerify, CALLERS, 200);
    await run(issue, CALLERS, 200);
    await run(baseline, CALLERS, 200);
    const v: number[] = [];
    const i: number[] = [];
    const b: number[] = [];
    const vr: number[] = [];
    const ir: number[] = [];
    const cv: number[] = [];
    for (let round = 0; round < (quick ? 1 : 5); round++) {
      const order =
        round % 2 === 0
          ? [verify, composedVerify, issue, baseline]
          : [baseline, issue, composedVerify, verify];
      const results = new Map<unknown, number>();
      for (const op of order) results.set(op, (await run(op, CALLERS, durationMs)).ops);
      v.push(results.get(verify)!);
      i.push(results.get(issue)!);
      b.push(results.get(baseline)!);
      vr.push(results.get(verify)! / results.get(baseline)!);
      ir.push(results.get(issue)! / results.get(baseline)!);
      cv.push(results.get(composedVerify)!);
    }
    const latency = [];
    for (const callers of [1, 8, 32]) {
      const sorted = (await run(verify, callers, durationMs)).latencies.sort((x, y) => x - y);
      latency.push({ callers, p50: quantile(sorted, 0.5), p99: quantile(sorted, 0.99) });
    }
    return {
      verifyOps: median(v),
      composedVerifyOps: median(cv),
      issueOps: median(i),
      baselineOps: median(b),
      verifyRatio: median(vr),
      issueRatio: median(ir),
      latency,
    };
  }
}

export default async function run_(ctx: { quick: boolean }): Promise<string> {
  const rows: Measured[] = [];
  for (const [where, url, options] of [
    ["server", DATABASE_URL, undefined],
    // the same without waiting for the WAL flush at commit: what is left is the statements' own cost
    ["server, synchronous_commit off", DATABASE_URL, "-c synchronous_commit=off"],
    ["PgBouncer, transaction pooling", PGBOUNCER_URL, undefined],
  ] as const) {
    for (const named of [false, true]) {
      const name = `${where}, ${named ? "namedStatements: true" : "unnamed (default)"}`;
      rows.push(await measure(name, url, named, ctx.quick, options));
    }
  }
  const fmt = (n: number | undefined) => (n === undefined ? "–" : Math.round(n).toLocaleString("en-US"));
  const ms = (n: number) => n.toFixed(2);
  const lines = [
    "## PostgreSQL steps: verify and issue in one call",
    "",
    `\`verifyStep\` (a wrong code: attempt, failure counter, event) and \`issueStep\` (limits, save, events) at`,
    `${CALLERS} concurrent callers on a pg Pool of 8 connections, beside a one-row \`UPDATE\` through the same`,
    "pool (named when the row is): 5 rounds of 1 s, alternating order; ops/s medians, ratios the median of the",
    "per-round ratios. In parentheses: the same verification composed from `attempt`, `increment` and",
    "`appendEvent` (3 statements and 3 commits: the path before the steps). Latency: `verifyStep` at 1/8/32",
    "callers. Target: verify >= 0.6 x the one-row `UPDATE`.",
    "",
    "| pool | verify ops/s (composed before) | issue ops/s | `UPDATE` ops/s | verify ratio | issue ratio | target met | verify p50/p99 ms at 1 / 8 / 32 |",
    "|---|---:|---:|---:|---:|---:|---|---|",
  ];
  for (const r of rows) {
    if (r.note) {
      lines.push(`| ${r.name} | – | – | – | – | – | ${r.note} | – |`);
      continue;
    }
    const lat = r.latency!.map((l) => `${ms(l.p50)}/${ms(l.p99)}`).join(" · ");
    lines.push(
      `| ${r.name} | ${fmt(r.verifyOps)} (${fmt(r.composedVerifyOps)}) | ${fmt(r.issueOps)} | ${fmt(r.baselineOps)} | ${r.verifyRatio!.toFixed(2)} | ${r.issueRatio!.toFixed(2)} | ${r.verifyRatio! >= TARGET_RATIO ? "yes" : "no"} | ${lat} |`,
    );
  }
  return lines.join("\n");
}
