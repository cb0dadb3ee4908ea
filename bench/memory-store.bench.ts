/**
 * MemoryTokenStore at scale: the longest event-loop block while `purge` removes 1,000,000 expired tokens
 * (the gap between two `setImmediate` ticks of a pinger running beside it, and `monitorEventLoopDelay`'s
 * maximum), and the cost of paging through 10,000 events with `before` against reading its first page.
 *
 * Run alone: `BENCH_ONLY=memory-store npx tsx bench/index.ts`.
 */
import { monitorEventLoopDelay } from "node:perf_hooks";
import { MemoryTokenStore } from "../src/adapters/memory.js";
import type { BenchContext } from "./index.js";

const T0 = 1_790_000_000_000;
const TARGET_BLOCK_MS = 20;

async function purgeBlock(
  n: number,
): Promise<{ longestMs: number; histogramMaxMs: number; totalMs: number }> {
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
  let last = performance.now();
  const tick = () => {
    const now = performance.now();
    longest = Math.max(longest, now - last);
    last = now;
    if (!done) setImmediate(tick);
  };
  histogram.enable();
  setImmediate(tick);
  const start = performance.now();
  const result = await store.purge(T0 + 120_000);
  const totalMs = performance.now() - start;
  done = true;
  histogram.disable();
  if (result.tokens !== n) throw new Error(`purged ${result.tokens} of ${n}`);
  return { longestMs: longest, histogramMaxMs: histogram.max / 1e6, totalMs };
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
  const blocks: { longestMs: number; histogramMaxMs: number; totalMs: number }[] = [];
  for (let r = 0; r < runs; r++) blocks.push(await purgeBlock(n));
  const worst = blocks.reduce((a, b) => (b.longestMs > a.longestMs ? b : a));
  const page = await paging(10_000, 50);
  const ideal = page.firstPageMs * page.pages;
  const met = worst.longestMs <= TARGET_BLOCK_MS;
  return [
    "## Memory store: purge and history paging",
    "",
    `Measured ${new Date().toISOString().slice(0, 10)}. Purge of ${n.toLocaleString("en-US")} expired tokens, ${runs} run(s), the worst`,
    "shown: the longest gap between two ticks of a `setImmediate` pinger running beside `purge` (and",
    "`monitorEventLoopDelay`'s maximum, 1 ms resolution). Paging: 10,000 events of one beneficiary, pages of 50",
    "through `before`, against the first page's time (mean of 200 reads) times the page count.",
    "",
    "| measure | value | baseline | ratio | target | met |",
    "|---|---|---|---|---|---|",
    `| purge, longest event-loop block | ${fmt(worst.longestMs)} ms (loop delay max ${fmt(worst.histogramMaxMs)} ms) | one ${fmt(worst.totalMs)} ms purge | ${(worst.longestMs / worst.totalMs).toFixed(3)} | ≤ ${TARGET_BLOCK_MS} ms | ${met ? "yes" : "**no**"} |`,
    `| paging through 10,000 events (${page.pages} pages) | ${fmt(page.allMs)} ms | ${fmt(ideal)} ms (${page.pages} × first page) | ${(page.allMs / ideal).toFixed(2)} | O(limit) per page | — |`,
    "",
    met
      ? "Before the chunked purge, the same purge was one synchronous block of about 750 ms; before the id index, paging through 10,000 events took 457 ms."
      : `Target missed by ${fmt(worst.longestMs - TARGET_BLOCK_MS)} ms. The purge yields every 8,192 slots, so the longest block is not the chunking: this bench does not profile it, and the suspects are a major GC of the million-token heap or the rehash of the guide map as it shrinks, both of which run inside one chunk.`,
  ].join("\n");
}
