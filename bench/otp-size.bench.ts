/**
 * Size of the browser bundle of `health-token/otp`: runs `scripts/size.mjs --json` (the same measurement that
 * `npm run check` enforces as a budget) and records the figures.
 *
 * Run alone: `BENCH_ONLY=otp-size npx tsx bench/index.ts`.
 */
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";

interface SizeReport {
  readonly programs: readonly {
    readonly name: string;
    readonly budget: number;
    readonly minified: number;
    readonly gzip: number;
  }[];
  readonly sha512TreeShaken: boolean;
  readonly ok: boolean;
}

export default async function run(): Promise<string> {
  const script = fileURLToPath(new URL("../scripts/size.mjs", import.meta.url));
  const child = spawnSync(process.execPath, [script, "--json"], { encoding: "utf8" });
  const line = child.stdout.trim().split("\n").pop() ?? "";
  if (!line.startsWith("{")) throw new Error(`bench: size script failed: ${child.stderr}`);
  const report = JSON.parse(line) as SizeReport;
  const fmt = (n: number) => n.toLocaleString("en-US");
  return [
    "## OTP: browser bundle size",
    "",
    "Two small programs importing `health-token/otp`, bundled with esbuild (browser platform, ESM, minified),",
    "then gzip -9. `npm run check` fails when a bundle is over its budget or when SHA-512 code survives in the",
    "SHA-1-only bundle.",
    "",
    "| program | minified | gzip -9 | budget | met |",
    "|---|---:|---:|---:|---|",
    ...report.programs.map(
      (p) =>
        `| ${p.name} | ${fmt(p.minified)} B | ${fmt(p.gzip)} B | ${fmt(p.budget)} B | ${p.gzip <= p.budget ? "yes" : "**no**"} |`,
    ),
    "",
    `SHA-512 code absent from the SHA-1-only bundle (tree-shaken): ${report.sha512TreeShaken ? "yes" : "**no**"}.`,
  ].join("\n");
}
