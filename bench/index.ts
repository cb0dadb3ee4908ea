/**
 * `npm run bench`: runs every `bench/*.bench.ts` module in name order and writes `docs/benchmarks.md`.
 *
 * A bench module default-exports `run(ctx)` returning one Markdown section (a `## ` heading, a table of
 * medians and ratios against a baseline measured in the same run, and whether each target was met).
 * Figures are ratios, not absolute times: the machines are shared and noisy. `BENCH_ONLY=otp` runs the
 * modules whose file name contains `otp`; `BENCH_QUICK=1` shortens every run (for smoke tests).
 */
import { readdirSync, writeFileSync } from "node:fs";
import { cpus, totalmem } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

/** What each bench module receives. */
export interface BenchContext {
  /** Short runs (smoke test), not for recorded figures. */
  readonly quick: boolean;
}

/** The shape of a bench module. */
export type BenchModule = { default: (ctx: BenchContext) => Promise<string> };

const here = dirname(fileURLToPath(import.meta.url));
const only = process.env.BENCH_ONLY;
const quick = process.env.BENCH_QUICK === "1";
const files = readdirSync(here)
  .filter((f) => f.endsWith(".bench.ts") && (!only || f.includes(only)))
  .sort();

const sections: string[] = [];
for (const file of files) {
  console.log(`bench: ${file}`);
  const mod = (await import(pathToFileURL(join(here, file)).href)) as BenchModule;
  const section = await mod.default({ quick });
  console.log(section);
  sections.push(section.trim());
}

const cpu = cpus()[0]?.model ?? "unknown CPU";
const header = [
  "# Benchmarks",
  "",
  "Written by `npm run bench`; do not edit by hand. Every target is a ratio against a baseline measured in",
  "the same process and run, because these machines are shared and noisy: absolute figures vary from run",
  "to run, ratios much less.",
  "",
  `- Date: ${new Date().toISOString().slice(0, 10)}`,
  `- Machine: ${cpus().length} × ${cpu}, ${Math.round(totalmem() / 2 ** 30)} GiB`,
  `- Node: ${process.version} (${process.platform}/${process.arch})`,
  quick ? "- Mode: QUICK (smoke run; figures not representative)" : "- Mode: full",
  "",
].join("\n");

if (!only) {
  writeFileSync(join(here, "..", "docs", "benchmarks.md"), `${header}\n${sections.join("\n\n")}\n`);
  console.log("bench: wrote docs/benchmarks.md");
} else {
  console.log("bench: BENCH_ONLY set, docs/benchmarks.md left as it is");
}
