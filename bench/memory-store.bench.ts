/**
 * MemoryTokenStore at scale: the longest event-loop block while `purge` removes 1,000,000 expired tokens
 * (the gap between two `setImmediate` ticks of a pinger running beside it, the process's CPU time within that
 * gap, and `monitorEventLoopDelay`'s maximum), and the cost of paging through 10,000 events with `before`
 * against reading its first page.
 *
 * Run alone: `BENCH_ONLY=memory-store npx tsx bench/index.ts`.
 */
import { cpus, loadavg } from "node:os";
import { constants, monitorEventLoopDelay, PerformanceObserver } from "node:perf_hooks";
import { MemoryTokenStore } from "../src/adapters/memory.js";
import type { BenchContext } from "./index.js";

const T0 = 1_790_000_000_000;
const TARGET_BLOCK_MS = 20;

interface PurgeBlock {
  /** The longest gap between two ticks of the pinger (wall clock). */
  readonly longestMs: number;
  /** The process's CPU time (every thread) within that gap: below the gap, the rest was the machine's. */
  readonly longestCpuMs: number;
  /** The longest CPU time within any gap. */
  readonly mostCpuMs: number;
  readonly histogramMaxMs: number;
  readonly totalMs: number;
  /** The longest garbage-collection pause during the purge, and whether it was a major (mark-compact) one. */
  readonly gcMaxMs: number;
  readonly gcMajor: boolean;
}

async function purgeBlock(n: number): Promise<PurgeBlock> {
  const store = new MemoryTokenStore();
  for (let i = 0; i < n; i++) {
    await store.save({
      tokenId: `t${i}`,
      guideId: `g${i}`,
      providerId: "p",
      beneficiaryId: `b${i}`,
      codeHash: `h1:${i}`,
      issuedAtMs: T0,
      expiresAtMs: T0 + 60_000,
      maxAttempts: 5,
      channel: "sms",
    });
  }
  const histogram = monitorEventLoopDelay({ resolution: 1 });
  let done = false;
  let longest = 0;
  let longestCpu = 0;
  let mostCpu = 0;
  let last = performance.now();
  let lastCpu = process.cpuUsage();
  const tick = () => {
    const now = performance.now();
    const cpuNow = process.cpuUsage();
    const cpu = (cpuNow.user + cpuNow.system - lastCpu.user - lastCpu.system) / 1000;
    if (now - last > longest) {
      longest = now - last;
      longestCpu = cpu;
    }
    mostCpu = Math.max(mostCpu, cpu);
    last = now;
    lastCpu = cpuNow;
    if (!done) setImmediate(tick);
  };
  let gcMaxMs = 0;
  let gcMajor = false;
  const gc = new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) {
      if (entry.duration <= gcMaxMs) continue;
      gcMaxMs = entry.duration;
      const gcEntry = entry as unknown as { detail?: { kind?: number }; kind?: number };
      gcMajor = (gcEntry.detail?.kind ?? gcEntry.kind) === constants.NODE_PERFORMANCE_GC_MAJOR;
    }
  });
  gc.observe({ entryTypes: ["gc"] });
  histogram.enable();
  setImmediate(tick);
  const start = performance.now();
  const result = await store.purge(T0 + 120_000);
  const totalMs = performance.now() - start;
  done = true;
  histogram.disable();
  await new Promise((resolve) => setImmediate(resolve)); // the observer's last entries
  gc.disconnect();
  if (result.tokens !== n) throw new Error(`purged ${result.tokens} of ${n}`);
  return {
    longestMs: longest,
    longestCpuMs: longestCpu,
    mostCpuMs: mostCpu,
    histogramMaxMs: histogram.max / 1e6,
    totalMs,
    gcMaxMs,
    gcMajor,
  };
}

async function paging(
  n: number,
  limit: number,
): Promise<{ allMs: number; firstPageMs: number; pages: number }> {
  const store = new MemoryTokenStore({ maxEventsPerBeneficiary: n });
  for (let i = 0; i < n; i++) {
    await store.appendEvent({ id: `e-${i}`, type: "token.issued", atMs: T0 + i, beneficiaryId: "b" });
  }
  const firstStart = performance.now();
  const rounds = 200;
  for (let r = 0; r < rounds; r++) await store.listEvents("b", { limit });
  const firstPageMs = (performance.now() - firstStart) / rounds;
  const start = performance.now();
  let before: string | undefined;
  let pages = 0;
  for (;;) {
    const page = await store.listEvents("b", before === undefined ? { limit } : { limit, before });
    if (page.length === 0) break;
    pages++;
    before = page.at(-1)!.id;
  }
  return { allMs: performance.now() - start, firstPageMs, pages };
}

const fmt = (ms: number) => ms.toFixed(ms < 10 ? 2 : 1);

export default async function run(ctx: BenchContext): Promise<string> {
  const n = ctx.quick ? 100_000 : 1_000_000;
  const runs = ctx.quick ? 1 : 3;
  const blocks: PurgeBlock[] = [];
  for (let r = 0; r < runs; r++) blocks.push(await purgeBlock(n));
  const worst = blocks.reduce((a, b) => (b.longestMs > a.longestMs ? b : a));
  const page = await paging(10_000, 50);
  const ideal = page.firstPageMs * page.pages;
  const met = worst.longestMs <= TARGET_BLOCK_MS;
  return [
    "## Memory store: purge and history paging",
    "",
    `Measured ${new Date().toISOString().slice(0, 10)}. Purge of ${n.toLocaleString("en-US")} expired tokens, ${runs} run(s), the worst`,
    "shown: the longest gap between two ticks of a `setImmediate` pinger running beside `purge`, the process's",
    "CPU time within that gap (all threads; on a shared machine a gap much longer than its CPU time is the",
    "machine's scheduling, not the purge), the most CPU time within any gap, and `monitorEventLoopDelay`'s",
    "maximum (1 ms resolution), and the longest garbage-collection pause seen during the purge. Paging: 10,000 events of one beneficiary, pages of 50 through `before`, against",
    "the first page's time (mean of 200 reads) times the page count.",
    "",
    "| measure | value | baseline | ratio | target | met |",
    "|---|---|---|---|---|---|",
    `| purge, longest event-loop block | ${fmt(worst.longestMs)} ms (CPU ${fmt(worst.longestCpuMs)} ms in it; most CPU in a gap ${fmt(worst.mostCpuMs)} ms; longest GC pause ${fmt(worst.gcMaxMs)} ms${worst.gcMajor ? ", major" : ""}; loop delay max ${fmt(worst.histogramMaxMs)} ms) | one ${fmt(worst.totalMs)} ms purge | ${(worst.longestMs / worst.totalMs).toFixed(3)} | ≤ ${TARGET_BLOCK_MS} ms | ${met ? "yes" : "**no**"} |`,
    `| paging through 10,000 events (${page.pages} pages) | ${fmt(page.allMs)} ms | ${fmt(ideal)} ms (${page.pages} × first page) | ${(page.allMs / ideal).toFixed(2)} | O(limit) per page | — |`,
    "",
    [
      "History: one synchronous block of about 750 ms before the purge was chunked; then, in chunks of 8,192",
      "slots, still 300 ms (2026-12-01), which a profile put in V8's shrinking of the million-entry guide map:",
      "deleting most of its entries makes the Map rehash all it still holds in one step (90 ms at 262,143 left,",
      "again at 131,071). The purge then released slots without deleting their map entries and copied the live",
      "ones to a fresh map in slices of at most 4 ms; since 2026-12-02 guide and beneficiary ids live in the",
      "store's own id tables, whose removals never rehash, and only counters and claims are copied that way.",
      "Before the id index, paging through 10,000 events took 457 ms.",
      met
        ? ""
        : [
            `Target missed by ${fmt(worst.longestMs - TARGET_BLOCK_MS)} ms in this run.`,
            worst.gcMaxMs > TARGET_BLOCK_MS
              ? `The longest garbage-collection pause during the purge was ${fmt(worst.gcMaxMs)} ms${worst.gcMajor ? " (a major, mark-compact one: the heap the million tokens' ids make, marked and compacted at once; fewer heap objects per token would shorten it, the purge's own slices cannot)" : ""}.`
              : "",
            worst.mostCpuMs <= TARGET_BLOCK_MS
              ? `No gap held more than ${fmt(worst.mostCpuMs)} ms of the process's CPU time: the longest gaps were the machine's scheduling (load ${loadavg()[0]!.toFixed(1)} on ${cpus().length} CPUs at the end of the run).`
              : "",
          ]
            .filter((t) => t !== "")
            .join(" "),
    ]
      .join(" ")
      .trim(),
  ].join("\n");
}
