/**
 * Store verify benchmark: `verify` through the real service (`createTokenService` on each store), each
 * one a correct code on a fresh guide: every token is issued beforehand through the same service, with an
 * `OutboxNotifier` that captures its code, so each verify takes the `ok` path (attempt, `token.verified`).
 *
 * - Throughput at 32 concurrent callers on Redis (ioredis) and PostgreSQL (pg Pool), beside a raw baseline on the
 *   same client in the same round: an `EVALSHA` of `return 1` for Redis, a one-row `UPDATE … SET n = n + 1` (one
 *   row per caller) for PostgreSQL. Target: verify / baseline >= 0.6.
 * - On PostgreSQL, the floor of such a verify in the same rounds: the baseline `UPDATE` and one appended row in one
 *   statement (a verify changes its token and appends its event: two row writes), and verify against it.
 * - On Redis, the store's `verifyStep` alone (no service: tokens saved with `save`, each step the `ok` path)
 *   against the same baseline, the client CPU (`process.cpuUsage`) per operation of each, and what the server
 *   spends per call of each script (`INFO commandstats` before and after each phase: the `EVALSHA` time per
 *   call, and the time of the commands the script ran).
 * - p50 and p99 verify latency at 1, 8 and 32 concurrent callers on memory, Redis, Redis Cluster and PostgreSQL.
 * - Round trips: the driver calls (ioredis `sendCommand`, pg `Client#query`) of one `verify` and of one `issue` up
 *   to its first delivery try, and the store-port calls the service makes for them. Deterministic.
 * - Which form ran: `steps: yes` when the store has `issueStep` / `verifyStep` (one call each), `no` when the
 *   service composes the fine-grained methods. A store with steps runs a second time through `withoutSteps`
 *   (same store and client, composed by the service), so the steps' gain shows within one run.
 *
 * Run alone: `BENCH_ONLY=stores-verify npx tsx bench/index.ts`. A server that does not answer is skipped with a
 * note. `BENCH_STORES=memory,redis,cluster,postgres` picks the stores (default: all).
 */
import { cpus, loadavg } from "node:os";
import Redis, { Cluster } from "ioredis";
import pg from "pg";
import { CodeHasher } from "../src/_internal/codes.js";
import { MemoryTokenStore } from "../src/adapters/memory.js";
import { PostgresTokenStore } from "../src/adapters/postgres.js";
import { RedisTokenStore } from "../src/adapters/redis.js";
import { rateLimitKeys } from "../src/policy/rate-limit.js";
import type { Notifier } from "../src/ports/notifier.js";
import type { TokenStore } from "../src/ports/store.js";
import type { TokenStoreSteps } from "../src/ports/store-steps.js";
import { createTokenService, type TokenService } from "../src/service/token-service.js";
import { OutboxNotifier } from "../src/testing/fakes.js";
import { withoutSteps } from "../src/testing/index.js";
import { testPepper } from "../test/helpers/keys.js";

const REDIS_URL = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";
const DATABASE_URL = process.env.DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/test";
const CLUSTER_NODES = (process.env.REDIS_CLUSTER_NODES ?? "127.0.0.1:7101,127.0.0.1:7102,127.0.0.1:7103")
  .split(",")
  .map((hp) => ({ host: hp.slice(0, hp.lastIndexOf(":")), port: Number(hp.slice(hp.lastIndexOf(":") + 1)) }));
const PEPPER = testPepper("bench-stores-verify");
const CALLERS = 32;
const LEVELS = [1, 8, 32] as const;
const TARGET_RATIO = 0.6;
const PG_POOL_MAX = 8;
/** The PostgreSQL form whose latency is measured: the store's default today (`namedStatements: false`). */
const PG_LATENCY_NAMED = false;
const PROVIDER = "P-1";
/** A fixed time for the floor's appended row. */
const T_BODY = 1_790_000_000_000;
/** Throughput rounds and latency runs (full mode; quick mode does 1 of each). */
const ROUNDS = 5;
const RUNS = 5;
/** Verifies per latency run and level (split over the callers). */
const SAMPLES = 512;
const QUICK_SAMPLES = 64;

type Store = TokenStore & TokenStoreSteps;

/** A call counter (store-port calls). */
interface Counter {
  n: number;
}

/**
 * Counts the commands or statements a driver is handed (`calls`), and the sequential round trips among them
 * (`trips`: the calls that start while no other is in flight; calls sent together count once).
 */
class DriverCounter {
  calls = 0;
  trips = 0;
  #inFlight = 0;

  /** Notes a call's start; returns the function that notes its end (idempotent). */
  start(): () => void {
    this.calls++;
    if (this.#inFlight++ === 0) this.trips++;
    let ended = false;
    return () => {
      if (!ended) {
        ended = true;
        this.#inFlight--;
      }
    };
  }

  reset(): void {
    this.calls = 0;
    this.trips = 0;
  }

  snapshot(): { calls: number; trips: number } {
    return { calls: this.calls, trips: this.trips };
  }
}

/** One store under measure, with what it needs around it. */
interface Subject {
  readonly key: "memory" | "redis" | "cluster" | "postgres";
  readonly name: string;
  readonly store: Store;
  /** Driver calls; absent for the memory store (no driver). */
  readonly driver?: DriverCounter;
  /** The raw baseline on the same client, for the throughput row. */
  readonly baseline?: { readonly name: string; readonly op: (caller: number) => Promise<unknown> };
  /**
   * The floor of any verify that changes the token and appends its event as two rows: the same two writes, bare,
   * in one statement (PostgreSQL), measured in the same rounds as the baseline.
   */
  readonly floor?: { readonly name: string; readonly op: (caller: number) => Promise<unknown> };
  /** The server's command statistics (Redis `INFO commandstats`), for what a script costs it. */
  readonly commandStats?: () => Promise<CommandStats>;
  /** Verifies per caller in one throughput round. */
  readonly perCaller: number;
  /** Whether its latency is measured (the second PostgreSQL form only runs the throughput, to save minutes). */
  readonly latency: boolean;
  /** The raw operation whose latency is shown beside the store's (same client, same levels). */
  readonly latencyBaseline?:
    | { readonly name: string; readonly op: (caller: number) => Promise<unknown> }
    | undefined;
  close(): Promise<void>;
}

/** Per command (lowercase, as `INFO commandstats` names it): calls and total µs since the server's last reset. */
type CommandStats = Map<string, { readonly calls: number; readonly usec: number }>;

/** Parses `INFO commandstats`. */
function parseCommandStats(info: string): CommandStats {
  const stats: CommandStats = new Map();
  for (const m of info.matchAll(/^cmdstat_([^:]+):calls=(\d+),usec=(\d+)/gm)) {
    stats.set(m[1]!, { calls: Number(m[2]), usec: Number(m[3]) });
  }
  return stats;
}

/** What the server spent between two snapshots, per `EVALSHA` call. */
interface ServerCost {
  /** `EVALSHA` calls seen: more than the phase made when other clients ran scripts on the server meanwhile. */
  readonly calls: number;
  /** µs per `EVALSHA` call, the commands the scripts ran included. */
  readonly usecPerCall: number;
  /** µs per `EVALSHA` call spent in the commands the scripts ran (every other command's time over the calls). */
  readonly innerUsecPerCall: number;
}

function serverCost(before: CommandStats, after: CommandStats): ServerCost {
  const delta = (name: string) => {
    const a = after.get(name);
    const b = before.get(name);
    return { calls: (a?.calls ?? 0) - (b?.calls ?? 0), usec: (a?.usec ?? 0) - (b?.usec ?? 0) };
  };
  const evalsha = delta("evalsha");
  let inner = 0;
  for (const name of after.keys()) {
    if (name === "evalsha" || name === "eval" || name === "info" || name.startsWith("config")) continue;
    inner += delta(name).usec;
  }
  const calls = Math.max(1, evalsha.calls);
  return { calls: evalsha.calls, usecPerCall: evalsha.usec / calls, innerUsecPerCall: inner / calls };
}

type Opened = Subject | { readonly key: Subject["key"]; readonly name: string; readonly note: string };

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

/** Nearest-rank percentile. */
function percentile(values: readonly number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.max(0, Math.ceil(q * sorted.length) - 1)]!;
}

// ------------------------------------------------------------------ the service and its tokens

interface Issued {
  readonly guideId: string;
  readonly code: string;
}

/** A service on one store, issuing tokens to fresh guides and beneficiaries and keeping their codes. */
class Harness {
  readonly outbox = new OutboxNotifier();
  readonly service: TokenService;
  #seq = 0;

  /** @param onSend - called when the service tries a delivery, before the outbox records it */
  constructor(
    store: TokenStore,
    private readonly tag: string,
    onSend?: () => void,
  ) {
    const outbox = this.outbox;
    const notifier: Notifier = onSend
      ? {
          send: (message) => {
            onSend();
            return outbox.send(message);
          },
        }
      : outbox;
    this.service = createTokenService({ store, notifier, pepper: PEPPER });
  }

  /** One token on a fresh guide; its code read from the outbox. */
  async issueOne(): Promise<Issued> {
    const n = this.#seq++;
    const guideId = `G-${this.tag}-${n}`;
    await this.service.issue({
      guide: { id: guideId, providerId: PROVIDER },
      beneficiary: {
        id: `B-${this.tag}-${n}`,
        birthDate: "1980-05-17",
        contacts: [{ id: "c1", channel: "sms", address: "+5543999990001" }],
      },
    });
    return { guideId, code: this.outbox.lastCodeForGuide(guideId) };
  }

  /** `callers` lists of `perCaller` tokens, issued by up to 32 concurrent issuers. */
  async issueLists(callers: number, perCaller: number): Promise<Issued[][]> {
    const total = callers * perCaller;
    const all: Issued[] = new Array(total);
    let next = 0;
    await Promise.all(
      Array.from({ length: Math.min(CALLERS, total) }, async () => {
        while (next < total) {
          const i = next++;
          all[i] = await this.issueOne();
        }
      }),
    );
    this.outbox.clear();
    return Array.from({ length: callers }, (_, c) => all.slice(c * perCaller, (c + 1) * perCaller));
  }

  /** Verifies every list, one concurrent caller per list; each verify must be `ok`. Returns the elapsed ms. */
  async verifyLists(lists: readonly Issued[][], latencies?: number[]): Promise<number> {
    const start = performance.now();
    await Promise.all(
      lists.map(async (list) => {
        for (const t of list) {
          const t0 = performance.now();
          const result = await this.service.verify({
            guideId: t.guideId,
            providerId: PROVIDER,
            code: t.code,
          });
          if (latencies) latencies.push(performance.now() - t0);
          if (!result.ok) throw new Error(`bench: verify of a correct code failed (${result.reason})`);
        }
      }),
    );
    return performance.now() - start;
  }
}

/** Runs `op(caller)` `perCaller` times in each of `callers` concurrent loops; returns the elapsed ms. */
async function runBaseline(
  op: (caller: number) => Promise<unknown>,
  callers: number,
  perCaller: number,
): Promise<number> {
  const start = performance.now();
  await Promise.all(
    Array.from({ length: callers }, async (_, caller) => {
      for (let i = 0; i < perCaller; i++) await op(caller);
    }),
  );
  return performance.now() - start;
}

// ------------------------------------------------------------------ round trips

interface DriverCount {
  readonly calls: number;
  readonly trips: number;
}

interface RoundTrips {
  readonly verifyDriver?: DriverCount;
  readonly verifyStore: number;
  readonly issueDriver?: DriverCount;
  readonly issueStore: number;
  readonly issueTotalDriver?: DriverCount;
  readonly issueTotalStore: number;
}

/** The store seen through a proxy that counts every method call the service makes on it. */
function countingStore(store: Store, calls: Counter): Store {
  return new Proxy(store, {
    get(target, property) {
      const value: unknown = Reflect.get(target, property, target);
      if (typeof value !== "function") return value;
      return (...args: unknown[]) => {
        calls.n++;
        return (value as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
}

/**
 * Driver and store calls of one `verify` (a correct code) and of one `issue`: up to its first delivery try (the
 * notifier notes the counts when it is called) and in all. After a warm-up that loads scripts and connections.
 */
async function roundTrips(subject: Subject, tag: string): Promise<RoundTrips> {
  const calls: Counter = { n: 0 };
  const { driver } = subject;
  const seen: { atSend?: { driver: DriverCount | undefined; store: number } | undefined } = {};
  const harness = new Harness(countingStore(subject.store, calls), `${tag}rt`, () => {
    seen.atSend ??= { driver: driver?.snapshot(), store: calls.n };
  });
  // warm-up: enough guides that every Cluster master has loaded every script (no NOSCRIPT retry counted)
  for (let i = 0; i < 24; i++) await harness.verifyLists([[await harness.issueOne()]]);
  const reset = () => {
    calls.n = 0;
    driver?.reset();
    seen.atSend = undefined;
  };
  reset();
  const token = await harness.issueOne();
  const issueAt = seen.atSend;
  if (!issueAt) throw new Error("bench: the issue never reached the notifier");
  const issueTotal = { driver: driver?.snapshot(), store: calls.n };
  reset();
  await harness.verifyLists([[token]]);
  const common = { verifyStore: calls.n, issueStore: issueAt.store, issueTotalStore: issueTotal.store };
  return driver
    ? {
        ...common,
        verifyDriver: driver.snapshot(),
        issueDriver: issueAt.driver!,
        issueTotalDriver: issueTotal.driver!,
      }
    : common;
}

// ------------------------------------------------------------------ throughput and latency

interface Throughput {
  readonly verifyOps: number;
  readonly baselineOps: number;
  /** Median of the per-round ratios verify / baseline. */
  readonly ratio: number;
  readonly rounds: number;
  /** The floor's ops/s and the medians of its per-round ratios to the baseline and of verify to it. */
  readonly floor?: { readonly ops: number; readonly vsBaseline: number; readonly verifyVsFloor: number };
}

/**
 * Verify throughput at 32 callers against the baseline, in rounds: each round issues 32 × `perCaller` tokens, then
 * runs the verifies and the baseline (the same count of operations) back to back, order alternating.
 */
async function throughput(subject: Subject, harness: Harness, quick: boolean): Promise<Throughput> {
  const baseline = subject.baseline!;
  const perCaller = quick ? 10 : subject.perCaller;
  const rounds = quick ? 1 : ROUNDS;
  const ops = CALLERS * perCaller;
  // warm-up: both paths, a quarter of a round
  const warm = Math.max(1, Math.floor(perCaller / 4));
  await harness.verifyLists(await harness.issueLists(CALLERS, warm));
  await runBaseline(baseline.op, CALLERS, warm);
  const floor = subject.floor;
  if (floor) await runBaseline(floor.op, CALLERS, warm);
  const v: number[] = [];
  const b: number[] = [];
  const ratios: number[] = [];
  const f: number[] = [];
  const fVsB: number[] = [];
  const vVsF: number[] = [];
  for (let round = 0; round < rounds; round++) {
    const lists = await harness.issueLists(CALLERS, perCaller);
    let verifyMs: number;
    let baselineMs: number;
    if (round % 2 === 0) {
      baselineMs = await runBaseline(baseline.op, CALLERS, perCaller);
      verifyMs = await harness.verifyLists(lists);
    } else {
      verifyMs = await harness.verifyLists(lists);
      baselineMs = await runBaseline(baseline.op, CALLERS, perCaller);
    }
    v.push(ops / (verifyMs / 1000));
    b.push(ops / (baselineMs / 1000));
    ratios.push(baselineMs / verifyMs);
    if (floor) {
      const floorMs = await runBaseline(floor.op, CALLERS, perCaller);
      f.push(ops / (floorMs / 1000));
      fVsB.push(baselineMs / floorMs);
      vVsF.push(floorMs / verifyMs);
    }
  }
  return {
    verifyOps: median(v),
    baselineOps: median(b),
    ratio: median(ratios),
    rounds,
    ...(floor ? { floor: { ops: median(f), vsBaseline: median(fVsB), verifyVsFloor: median(vVsF) } } : {}),
  };
}

/** `verifyStep` alone against the baseline: throughput ratio and client CPU per operation (µs). */
interface StepAlone {
  readonly stepOps: number;
  readonly baselineOps: number;
  readonly ratio: number;
  readonly stepCpuUs: number;
  readonly baselineCpuUs: number;
  /** The server's cost per script call (medians over the rounds), when the subject reads its statistics. */
  readonly stepServer?: ServerCost;
  readonly baselineServer?: ServerCost;
  /** Whether every round saw exactly its own `EVALSHA` calls (no other client's scripts mixed in). */
  readonly serverClean?: boolean;
  readonly rounds: number;
}

/** The medians, field by field, of the costs of the rounds. */
function medianCost(costs: readonly ServerCost[]): ServerCost {
  return {
    calls: median(costs.map((c) => c.calls)),
    usecPerCall: median(costs.map((c) => c.usecPerCall)),
    innerUsecPerCall: median(costs.map((c) => c.innerUsecPerCall)),
  };
}

/** Client CPU (user + system, µs) and elapsed ms of `run`. */
async function timed(run: () => Promise<unknown>): Promise<{ ms: number; cpuUs: number }> {
  const cpu = process.cpuUsage();
  const start = performance.now();
  await run();
  const ms = performance.now() - start;
  const used = process.cpuUsage(cpu);
  return { ms, cpuUs: used.user + used.system };
}

/**
 * The store's `verifyStep` at 32 callers, each the `ok` path on a token saved beforehand with `save` (no
 * service around it), against the baseline, in rounds of the same size as the service's; order alternating.
 */
async function stepAlone(subject: Subject, tag: string, quick: boolean): Promise<StepAlone> {
  const { store } = subject;
  const baseline = subject.baseline!;
  const perCaller = quick ? 10 : subject.perCaller;
  const rounds = quick ? 1 : ROUNDS;
  const ops = CALLERS * perCaller;
  const providerFailures = { key: rateLimitKeys.providerFailures(PROVIDER), windowMs: 86_400_000 };
  let seq = 0;
  const prepare = async (count: number): Promise<number[][]> => {
    const nowMs = Date.now();
    const ids = Array.from({ length: count }, () => seq++);
    await Promise.all(
      ids.map((i) =>
        store.save({
          tokenId: `T-${tag}s-${i}`,
          guideId: `G-${tag}s-${i}`,
          providerId: PROVIDER,
          beneficiaryId: `B-${tag}s-${i}`,
          codeHash: `h1:${tag}s-${i}`,
          issuedAtMs: nowMs,
          expiresAtMs: nowMs + 600_000,
          maxAttempts: 5,
          channel: "sms",
        }),
      ),
    );
    return Array.from({ length: CALLERS }, (_, c) => ids.filter((_, k) => k % CALLERS === c));
  };
  const verifyAll = (lists: readonly number[][]) =>
    Promise.all(
      lists.map(async (list) => {
        for (const i of list) {
          const { attempt } = await store.verifyStep!({
            guideId: `G-${tag}s-${i}`,
            providerId: PROVIDER,
            candidateHash: `h1:${tag}s-${i}`,
            nowMs: Date.now(),
            failureWindowMs: 900_000,
            providerFailures,
            eventIds: [`E-${tag}s-${i}`, `L-${tag}s-${i}`],
          });
          if (attempt.outcome !== "ok")
            throw new Error(`bench: verifyStep of a correct code: ${attempt.outcome}`);
        }
      }),
    );
  const warm = Math.max(1, Math.floor(perCaller / 4));
  await verifyAll(await prepare(CALLERS * warm));
  await runBaseline(baseline.op, CALLERS, warm);
  const v: number[] = [];
  const b: number[] = [];
  const ratios: number[] = [];
  const vCpu: number[] = [];
  const bCpu: number[] = [];
  const vServer: ServerCost[] = [];
  const bServer: ServerCost[] = [];
  const stats = subject.commandStats;
  // the server's statistics around a phase (read outside the timed part)
  const around = async <T>(costs: ServerCost[], run: () => Promise<T>): Promise<T> => {
    const before = stats ? await stats() : undefined;
    const result = await run();
    if (stats && before) costs.push(serverCost(before, await stats()));
    return result;
  };
  for (let round = 0; round < rounds; round++) {
    const lists = await prepare(ops);
    const runSteps = () => around(vServer, () => timed(() => verifyAll(lists)));
    const runBase = () => around(bServer, () => timed(() => runBaseline(baseline.op, CALLERS, perCaller)));
    let steps: { ms: number; cpuUs: number };
    let base: { ms: number; cpuUs: number };
    if (round % 2 === 0) {
      base = await runBase();
      steps = await runSteps();
    } else {
      steps = await runSteps();
      base = await runBase();
    }
    v.push(ops / (steps.ms / 1000));
    b.push(ops / (base.ms / 1000));
    ratios.push(base.ms / steps.ms);
    vCpu.push(steps.cpuUs / ops);
    bCpu.push(base.cpuUs / ops);
  }
  return {
    stepOps: median(v),
    baselineOps: median(b),
    ratio: median(ratios),
    stepCpuUs: median(vCpu),
    baselineCpuUs: median(bCpu),
    ...(stats
      ? {
          stepServer: medianCost(vServer),
          baselineServer: medianCost(bServer),
          serverClean: [...vServer, ...bServer].every((c) => c.calls === ops),
        }
      : {}),
    rounds,
  };
}

interface Latency {
  readonly callers: number;
  readonly p50: number;
  readonly p99: number;
  readonly samples: number;
  readonly runs: number;
}

/** p50 and p99 of verify at `callers` concurrent callers: the medians over the runs of each run's percentiles. */
async function latency(harness: Harness, callers: number, quick: boolean): Promise<Latency> {
  const total = quick ? QUICK_SAMPLES : SAMPLES;
  const runs = quick ? 1 : RUNS;
  const perCaller = total / callers;
  await harness.verifyLists(await harness.issueLists(callers, Math.max(1, Math.ceil(perCaller / 8))));
  const p50: number[] = [];
  const p99: number[] = [];
  for (let run = 0; run < runs; run++) {
    const lists = await harness.issueLists(callers, perCaller);
    const samples: number[] = [];
    await harness.verifyLists(lists, samples);
    p50.push(percentile(samples, 0.5));
    p99.push(percentile(samples, 0.99));
  }
  return { callers, p50: median(p50), p99: median(p99), samples: total, runs };
}

/** p50 and p99 of a raw operation at `callers` concurrent callers, run as the verifies' latency runs are. */
async function baselineLatency(
  op: (caller: number) => Promise<unknown>,
  callers: number,
  quick: boolean,
): Promise<Latency> {
  const total = quick ? QUICK_SAMPLES : SAMPLES;
  const runs = quick ? 1 : RUNS;
  const perCaller = total / callers;
  await runBaseline(op, callers, Math.max(1, Math.ceil(perCaller / 8)));
  const p50: number[] = [];
  const p99: number[] = [];
  for (let run = 0; run < runs; run++) {
    const samples: number[] = [];
    await Promise.all(
      Array.from({ length: callers }, async (_, caller) => {
        for (let i = 0; i < perCaller; i++) {
          const t = performance.now();
          await op(caller);
          samples.push(performance.now() - t);
        }
      }),
    );
    p50.push(percentile(samples, 0.5));
    p99.push(percentile(samples, 0.99));
  }
  return { callers, p50: median(p50), p99: median(p99), samples: total, runs };
}

// ------------------------------------------------------------------ the stores

/** Counts every command ioredis is handed (`call` goes through `sendCommand`, on a server and on a Cluster). */
function countCommands(client: Redis | Cluster, counter: DriverCounter): void {
  const send = client.sendCommand.bind(client) as (...args: unknown[]) => unknown;
  (client as unknown as { sendCommand: (...args: unknown[]) => unknown }).sendCommand = (...args) => {
    const end = counter.start();
    const reply = send(...args);
    if (reply instanceof Promise) reply.then(end, end);
    else end();
    return reply;
  };
}

/** Deletes every key under `prefix:` on one node (its own SCAN; single-key DELs, so no slot is crossed). */
async function sweep(node: Redis, prefix: string): Promise<void> {
  let cursor = "0";
  do {
    const [next, keys] = await node.scan(cursor, "MATCH", `${prefix}:*`, "COUNT", 1000);
    cursor = next;
    if (keys.length > 0) await node.pipeline(keys.map((k) => ["del", k])).exec();
  } while (cursor !== "0");
}

async function openMemory(): Promise<Opened> {
  const hasher = new CodeHasher(new TextEncoder().encode(PEPPER));
  return {
    key: "memory",
    name: "MemoryTokenStore",
    store: new MemoryTokenStore(),
    perCaller: 0,
    latency: true,
    latencyBaseline: {
      name: "one code hash and an `await` (a verify's own floor)",
      op: async (caller) => hasher.hash(`G-${caller}`, "123456"),
    },
    close: async () => {},
  };
}

async function openRedis(tag: string): Promise<Opened> {
  const name = "RedisTokenStore (ioredis, 1 connection)";
  const client = new Redis(REDIS_URL, {
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  });
  client.on("error", () => {});
  try {
    await client.connect();
  } catch (error) {
    client.disconnect();
    return {
      key: "redis",
      name,
      note: `skipped: Redis at ${REDIS_URL} unreachable (${String(error).slice(0, 80)})`,
    };
  }
  const driver = new DriverCounter();
  countCommands(client, driver);
  const prefix = `htbv_${tag}`;
  const sha = String(await client.call("SCRIPT", "LOAD", "return 1"));
  // falls back to EVAL after a NOSCRIPT (the test suites flush the script cache), as the store does
  const evalshaOne = (caller: number) =>
    client
      .call("EVALSHA", sha, "1", `${prefix}:baseline:{${caller}}`)
      .catch((error: unknown) =>
        String(error).includes("NOSCRIPT")
          ? client.call("EVAL", "return 1", "1", `${prefix}:baseline:{${caller}}`)
          : Promise.reject(error),
      );
  return {
    key: "redis",
    name,
    store: new RedisTokenStore({ client, prefix }),
    driver,
    baseline: { name: "EVALSHA `return 1`", op: evalshaOne },
    commandStats: async () => parseCommandStats(String(await client.call("INFO", "commandstats"))),
    perCaller: 100,
    latency: true,
    latencyBaseline: { name: "EVALSHA `return 1`", op: evalshaOne },
    close: async () => {
      await sweep(client, prefix);
      client.disconnect();
    },
  };
}

async function openCluster(tag: string): Promise<Opened> {
  const nodes = CLUSTER_NODES.map((n) => `${n.host}:${n.port}`).join(",");
  const name = `RedisTokenStore (ioredis Cluster, ${CLUSTER_NODES.length} masters)`;
  const client = new Cluster(CLUSTER_NODES, {
    lazyConnect: true,
    clusterRetryStrategy: () => null,
    redisOptions: { maxRetriesPerRequest: 0, connectTimeout: 2000 },
  });
  client.on("error", () => {});
  try {
    await client.connect();
    if (client.nodes("master").length === 0) throw new Error("no master known");
  } catch (error) {
    client.disconnect();
    return {
      key: "cluster",
      name,
      note: `skipped: Redis Cluster at ${nodes} unreachable (${String(error).slice(0, 80)}); start it as \`.ci/run\`'s start_redis_cluster does`,
    };
  }
  const driver = new DriverCounter();
  countCommands(client, driver);
  const prefix = `htbv_${tag}`;
  return {
    key: "cluster",
    name,
    store: new RedisTokenStore({ client, prefix }),
    driver,
    perCaller: 0,
    latency: true,
    latencyBaseline: {
      // routed by its key to one master, as each of the store's scripts is; EVAL of a cached script
      name: "EVAL `return 1` (one key)",
      op: (caller) => client.call("EVAL", "return 1", "1", `${prefix}:baseline:{${caller}}`),
    },
    close: async () => {
      for (const node of client.nodes("master")) await sweep(node, prefix);
      client.disconnect();
    },
  };
}

async function openPostgres(tag: string, named: boolean): Promise<Opened> {
  const name = `PostgresTokenStore (pg Pool, ${PG_POOL_MAX} connections, namedStatements: ${named})`;
  const driver = new DriverCounter();
  // Counts every statement a pooled client is handed, whether through `pool.query` (which passes a callback) or a
  // checked-out client (which gets a promise).
  class CountingClient extends pg.Client {
    // biome-ignore lint/suspicious/noExplicitAny: pg's query has a dozen overloads; this only forwards them
    override query(...args: any[]): any {
      const end = driver.start();
      const last = args.length - 1;
      if (typeof args[last] === "function") {
        const callback = args[last] as (...a: unknown[]) => unknown;
        args[last] = (...a: unknown[]) => {
          end();
          return callback(...a);
        };
      }
      // biome-ignore lint/suspicious/noExplicitAny: as above
      const result = (super.query as (...a: any[]) => any)(...args);
      if (result instanceof Promise) result.then(end, end);
      return result;
    }
  }
  const pool = new pg.Pool({
    connectionString: DATABASE_URL,
    max: PG_POOL_MAX,
    connectionTimeoutMillis: 2000,
    Client: CountingClient,
  });
  pool.on("error", () => {});
  try {
    await pool.query("select 1");
  } catch (error) {
    await pool.end().catch(() => {});
    return {
      key: "postgres",
      name,
      note: `skipped: PostgreSQL at ${DATABASE_URL} unreachable (${String(error).slice(0, 80)})`,
    };
  }
  const schema = `htbv_${tag}_${named ? "n" : "u"}`;
  const store = new PostgresTokenStore({ pool, schema, namedStatements: named });
  await store.migrate();
  await pool.query(`CREATE TABLE "${schema}".baseline (id integer PRIMARY KEY, n bigint NOT NULL)`);
  await pool.query(`INSERT INTO "${schema}".baseline SELECT g, 0 FROM generate_series(0, ${CALLERS - 1}) g`);
  const update = `UPDATE "${schema}".baseline SET n = n + 1 WHERE id = $1`;
  // The floor: the one-row UPDATE and one appended row (an event-sized text), in one statement and one commit.
  await pool.query(
    `CREATE TABLE "${schema}".baseline_log (seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, id integer NOT NULL, body text NOT NULL)`,
  );
  const twoRows = `WITH u AS (UPDATE "${schema}".baseline SET n = n + 1 WHERE id = $1 RETURNING id)
    INSERT INTO "${schema}".baseline_log (id, body) SELECT u.id, $2 FROM u`;
  const body = JSON.stringify({ id: "E".repeat(16), atMs: T_BODY, type: "token.verified", channel: "sms" });
  return {
    key: "postgres",
    name,
    store,
    driver,
    baseline: {
      name: named ? "one-row `UPDATE`, named" : "one-row `UPDATE`",
      op: named
        ? (caller) => pool.query({ name: `${schema}_baseline`, text: update, values: [caller] })
        : (caller) => pool.query(update, [caller]),
    },
    floor: {
      name: "the `UPDATE` and one appended row, one statement",
      op: named
        ? (caller) => pool.query({ name: `${schema}_floor`, text: twoRows, values: [caller, body] })
        : (caller) => pool.query(twoRows, [caller, body]),
    },
    perCaller: 40,
    latency: named === PG_LATENCY_NAMED,
    latencyBaseline: { name: "one-row `UPDATE`", op: (caller) => pool.query(update, [caller]) },
    close: async () => {
      await pool.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`).catch(() => {});
      await pool.end();
    },
  };
}

// ------------------------------------------------------------------ the section

interface Measured {
  readonly subject: Subject;
  readonly steps: { readonly issue: boolean; readonly verify: boolean };
  readonly trips: RoundTrips;
  readonly throughput?: Throughput;
  readonly alone?: StepAlone;
  readonly latency: readonly Latency[];
  readonly baselineLatency: readonly Latency[];
}

async function measure(subject: Subject, tag: string, quick: boolean): Promise<Measured> {
  const { store } = subject;
  const steps = {
    issue: typeof store.issueStep === "function",
    verify: typeof store.verifyStep === "function",
  };
  const started = performance.now();
  const progress = (what: string) =>
    console.log(
      `stores-verify: ${subject.name}: ${what} (${((performance.now() - started) / 1000).toFixed(1)} s)`,
    );
  const trips = await roundTrips(subject, tag);
  progress("round trips counted");
  const harness = new Harness(store, tag);
  const measuredThroughput = subject.baseline ? await throughput(subject, harness, quick) : undefined;
  if (measuredThroughput) progress(`throughput ratio ${measuredThroughput.ratio.toFixed(2)}`);
  const alone =
    subject.key === "redis" && subject.baseline && steps.verify
      ? await stepAlone(subject, tag, quick)
      : undefined;
  if (alone) progress(`verifyStep alone: ratio ${alone.ratio.toFixed(2)}`);
  const lat: Latency[] = [];
  for (const callers of subject.latency ? LEVELS : []) {
    lat.push(await latency(harness, callers, quick));
    progress(`latency at ${callers} caller(s)`);
  }
  const base: Latency[] = [];
  const rawOp = subject.latency ? subject.latencyBaseline?.op : undefined;
  for (const callers of rawOp ? LEVELS : []) base.push(await baselineLatency(rawOp!, callers, quick));
  if (base.length > 0) progress("baseline latency");
  return {
    subject,
    steps,
    trips,
    ...(measuredThroughput ? { throughput: measuredThroughput } : {}),
    ...(alone ? { alone } : {}),
    latency: lat,
    baselineLatency: base,
  };
}

const fmtOps = (n: number) => Math.round(n).toLocaleString("en-US");
const fmtMs = (n: number) => (n < 10 ? n.toFixed(2) : n.toFixed(1));
const yesNo = (b: boolean) => (b ? "yes" : "no");

/** Options for tests: which stores to run (default: `BENCH_STORES`, or all). */
export interface StoresVerifyOptions {
  readonly quick: boolean;
  readonly stores?: readonly Subject["key"][];
}

export default async function run(options: StoresVerifyOptions): Promise<string> {
  const wanted =
    options.stores ??
    ((process.env.BENCH_STORES?.split(",").map((s) => s.trim()) ?? [
      "memory",
      "redis",
      "cluster",
      "postgres",
    ]) as Subject["key"][]);
  const loadAtStart = loadavg()[0]!;
  const tag = Date.now().toString(36);
  const openers: Array<() => Promise<Opened>> = [];
  if (wanted.includes("memory")) openers.push(openMemory);
  if (wanted.includes("redis")) openers.push(() => openRedis(tag));
  if (wanted.includes("cluster")) openers.push(() => openCluster(tag));
  if (wanted.includes("postgres")) {
    openers.push(() => openPostgres(tag, false));
    openers.push(() => openPostgres(tag, true));
  }
  const results: Array<Measured | Exclude<Opened, Subject>> = [];
  for (const open of openers) {
    const opened = await open();
    if ("note" in opened) {
      results.push(opened);
      continue;
    }
    try {
      results.push(await measure(opened, tag, options.quick));
      const { store } = opened;
      if (typeof store.issueStep === "function" || typeof store.verifyStep === "function") {
        // the same store and client, composed by the service: the steps' gain within this run
        const composed: Subject = {
          ...opened,
          name: `${opened.name}, composed (\`withoutSteps\`)`,
          store: withoutSteps(store) as Store,
          latency: opened.latency && opened.key !== "postgres",
          latencyBaseline: undefined,
          close: async () => {},
        };
        results.push(await measure(composed, `${tag}c`, options.quick));
      }
    } finally {
      await opened.close();
    }
  }
  return render(results, options.quick, loadAtStart);
}

function render(
  results: ReadonlyArray<Measured | { name: string; note: string }>,
  quick: boolean,
  loadAtStart: number,
): string {
  const measured = results.filter((r): r is Measured => "subject" in r);
  const skipped = results.filter((r): r is { name: string; note: string } => "note" in r);
  const rounds = quick ? 1 : ROUNDS;
  const runs = quick ? 1 : RUNS;
  const samples = quick ? QUICK_SAMPLES : SAMPLES;
  const lines = [
    "## Stores: verify through the service",
    "",
    `Measured ${new Date().toISOString().slice(0, 10)} on ${cpus().length} × ${cpus()[0]?.model ?? "unknown CPU"}` +
      ` (1-minute load average ${loadAtStart.toFixed(1)} at the start, ${loadavg()[0]!.toFixed(1)} at the end).`,
    "",
    "`verify` through `createTokenService` on each store, every one a correct code on a fresh guide (each token",
    "issued beforehand through the same service, its code read from an `OutboxNotifier`), so each verify takes",
    "the `ok` path: the attempt and the `token.verified` event. Local servers; the PostgreSQL pool holds",
    `${PG_POOL_MAX} connections. \`steps\` says which form ran: \`yes\` when the store has \`issueStep\` /`,
    "`verifyStep` (one store call each), `no` when the service composes the fine-grained methods. A store",
    "with steps runs a second time through `withoutSteps` (the same store and client, composed by the service;",
    "its PostgreSQL latency is not measured), so the steps' gain shows within one run.",
    "",
    "Round trips, for one `verify` and for one `issue` up to its first delivery try (counted when the notifier",
    "is called; the delivery events come after it), after a warm-up; deterministic. Driver calls: the commands or",
    "statements handed to the driver (a counter on ioredis `sendCommand` and on the pool's `Client#query`),",
    "then in brackets the sequential round trips among them (calls sent while another is in flight count once).",
    "Store calls: the store-port methods the service called.",
    "",
    "| store | steps (issue / verify) | verify: driver calls (sequential) | verify: store calls | issue to first send: driver calls (sequential) | issue to first send: store calls | whole issue: driver calls (sequential) |",
    "|---|---|---:|---:|---:|---:|---:|",
  ];
  const dc = (d: DriverCount | undefined) => (d === undefined ? "–" : `${d.calls} (${d.trips})`);
  for (const m of measured) {
    const t = m.trips;
    lines.push(
      `| ${m.subject.name} | ${yesNo(m.steps.issue)} / ${yesNo(m.steps.verify)} | ${dc(t.verifyDriver)} | ${t.verifyStore} | ${dc(t.issueDriver)} | ${t.issueStore} | ${dc(t.issueTotalDriver)} |`,
    );
  }
  for (const s of skipped) lines.push(`| ${s.name} | – | – | – | – | – | ${s.note} |`);

  lines.push(
    "",
    `Throughput at ${CALLERS} concurrent callers: ${rounds} round(s); each issues ${CALLERS} × n tokens, then runs the`,
    `${CALLERS} × n verifies and ${CALLERS} × n baseline operations (same client, same concurrency) back to back, order`,
    "alternating. ops/s are medians over the rounds; the ratio is the median of the per-round ratios.",
    "",
    `| store | steps (verify) | n per caller | verify ops/s | baseline | baseline ops/s | ratio | target (>= ${TARGET_RATIO}) met |`,
    "|---|---|---:|---:|---|---:|---:|---|",
  );
  for (const m of measured) {
    const t = m.throughput;
    if (!t) continue;
    lines.push(
      `| ${m.subject.name} | ${yesNo(m.steps.verify)} | ${quick ? 10 : m.subject.perCaller} | ${fmtOps(t.verifyOps)} | ${m.subject.baseline!.name} | ${fmtOps(t.baselineOps)} | ${t.ratio.toFixed(2)} | ${t.ratio >= TARGET_RATIO ? "yes" : "**no**"} |`,
    );
  }
  for (const m of measured) {
    const a = m.alone;
    if (!a) continue;
    lines.push(
      `| ${m.subject.name}: \`verifyStep\` alone | yes | ${quick ? 10 : m.subject.perCaller} | ${fmtOps(a.stepOps)} | ${m.subject.baseline!.name} | ${fmtOps(a.baselineOps)} | ${a.ratio.toFixed(2)} | ${a.ratio >= TARGET_RATIO ? "yes" : "**no**"} |`,
    );
  }
  for (const s of skipped) {
    if (!s.name.includes("Cluster")) lines.push(`| ${s.name} | – | – | – | – | – | – | ${s.note} |`);
  }
  const floors = measured.filter((m) => m.throughput?.floor);
  if (floors.length > 0) {
    lines.push(
      "",
      "The floor of a PostgreSQL verify: the token's change and its event are two row writes, so beside the",
      "one-row `UPDATE` the same rounds run that `UPDATE` with one appended row (an event-sized text) in one",
      "statement and one commit, bare: no function, no judgement, no JSON building. `floor / UPDATE` is the",
      "highest ratio any verify that writes its event as a row of its own can reach; `verify / floor` is how",
      "close the step comes to it. Medians of the per-round ratios.",
      "",
      "| store | steps (verify) | floor | floor ops/s | floor / `UPDATE` | verify / floor |",
      "|---|---|---|---:|---:|---:|",
    );
    for (const m of floors) {
      const fl = m.throughput!.floor!;
      lines.push(
        `| ${m.subject.name} | ${yesNo(m.steps.verify)} | ${m.subject.floor!.name} | ${fmtOps(fl.ops)} | ${fl.vsBaseline.toFixed(2)} | ${fl.verifyVsFloor.toFixed(2)} |`,
      );
    }
  }
  const alone = measured.filter((m) => m.alone);
  if (alone.length > 0) {
    lines.push(
      "",
      "`verifyStep` alone: the store's step without the service, each on a token saved beforehand with `save` (the",
      "`ok` path: the attempt and its `token.verified`), in rounds as above. Client CPU per operation: user + system",
      "time of the process (`process.cpuUsage`) over a round, divided by its operations; medians over the rounds.",
      "Server time per script call: `INFO commandstats` read before and after each phase of a round, the `EVALSHA`",
      "time over its calls (the script's commands included; in brackets the part spent in those commands), medians",
      "over the rounds. `clean`: every phase saw exactly its own calls; `no` when other clients ran scripts on the",
      "server meanwhile (their time is then mixed in).",
      "",
      "| store | `verifyStep`: client CPU per op (µs) | baseline: client CPU per op (µs) | `verifyStep` script: server µs per call (its commands) | baseline: server µs per call | server ratio | clean |",
      "|---|---:|---:|---:|---:|---:|---|",
    );
    for (const m of alone) {
      const a = m.alone!;
      const v = a.stepServer;
      const b = a.baselineServer;
      const server =
        v && b
          ? `${v.usecPerCall.toFixed(1)} (${v.innerUsecPerCall.toFixed(1)}) | ${b.usecPerCall.toFixed(2)} | ${(v.usecPerCall / b.usecPerCall).toFixed(1)} | ${yesNo(a.serverClean === true)}`
          : "– | – | – | –";
      lines.push(
        `| ${m.subject.name} | ${a.stepCpuUs.toFixed(1)} | ${a.baselineCpuUs.toFixed(1)} | ${server} |`,
      );
    }
  }

  lines.push(
    "",
    `Latency of one verify (ms), at 1, 8 and 32 concurrent callers: ${runs} run(s) of ${samples} verifies per level`,
    "(split evenly over the callers); each figure is the median over the runs of that run's percentile",
    "(nearest rank). At 32 callers on one client the figures include queueing in the driver (and the pool).",
    "Beside each store, its raw baseline at the same levels and in the same way: the same client's cheapest",
    "server call (for memory, one code hash and an `await`).",
    `PostgreSQL: the \`namedStatements: ${PG_LATENCY_NAMED}\` form only (the other one's throughput is above).`,
    "",
    "| store | steps (verify) | p50 @1 | p99 @1 | p50 @8 | p99 @8 | p50 @32 | p99 @32 |",
    "|---|---|---:|---:|---:|---:|---:|---:|",
  );
  for (const m of measured) {
    if (!m.subject.latency) continue;
    const cells = (ls: readonly Latency[]) => ls.map((l) => `${fmtMs(l.p50)} | ${fmtMs(l.p99)}`).join(" | ");
    lines.push(`| ${m.subject.name} | ${yesNo(m.steps.verify)} | ${cells(m.latency)} |`);
    if (m.baselineLatency.length > 0) {
      lines.push(`| raw baseline: ${m.subject.latencyBaseline!.name} | – | ${cells(m.baselineLatency)} |`);
    }
  }
  for (const s of skipped) lines.push(`| ${s.name} | – | ${s.note} | – | – | – | – | – |`);
  return lines.join("\n");
}
