// Size budgets (run by `npm run check`) of the browser bundle of `health-token/otp` and of `health-token/http`.
// Bundles two small programs against src/otp/index.ts with esbuild (minified, browser platform, ESM), gzips
// them at level 9 and fails (exit 1) when one is over its budget, or when tree-shaking left SHA-512 code in the SHA-1-only bundle.
// With `--json` it prints one JSON line instead (the figures `npm run bench` records in docs/benchmarks.md).

import { gzipSync } from "node:zlib";
import { build } from "esbuild";

const entry = new URL("../src/otp/index.ts", import.meta.url).pathname;
const receipts = new URL("../src/adapters/receipts/index.ts", import.meta.url).pathname;
const programs = [
  {
    name: "totp + verifyTotp, SHA-1 only",
    budget: 3500,
    code: `import { totp, verifyTotp } from ${JSON.stringify(entry)};
const secret = new Uint8Array(20);
console.log(verifyTotp(secret, totp(secret)));`,
  },
  {
    name: "totp + verifyTotp, all three algorithms",
    budget: 7000,
    code: `import { hmacSha256, hmacSha512, totp, verifyTotp } from ${JSON.stringify(entry)};
const secret = new Uint8Array(64);
for (const algorithm of ["SHA1", hmacSha256, hmacSha512]) console.log(verifyTotp(secret, totp(secret, { algorithm }), { algorithm }));`,
  },
  {
    // health-token/receipts: the three status-callback parsers (HMAC-SHA256, HMAC-SHA1, a secret header).
    name: "receipts: the three status-callback parsers",
    budget: 7000,
    code: `import { parseTwilioStatusCallback, parseWhatsAppStatusWebhook, parseZenviaStatusWebhook } from ${JSON.stringify(receipts)};
console.log(parseTwilioStatusCallback, parseWhatsAppStatusWebhook, parseZenviaStatusWebhook);`,
  },
];

// A word found only in SHA-512's code: the low half of its first round constant, 0xd728ae22, in any of the
// forms a minifier may print it (hex, unsigned or signed decimal).
const sha512Marker = [/0xd728ae22/i, /\b3609767458\b/, /-685199838\b/];
const hasSha512 = (text) => sha512Marker.some((re) => re.test(text));

const json = process.argv.includes("--json");
const log = json ? () => {} : (line) => console.log(line);
let failed = false;
const sizes = [];
for (const program of programs) {
  const result = await build({
    stdin: { contents: program.code, resolveDir: process.cwd(), loader: "ts" },
    bundle: true,
    minify: true,
    platform: "browser",
    format: "esm",
    target: "es2022",
    write: false,
    logLevel: "silent",
  });
  const bytes = result.outputFiles[0].contents;
  const text = new TextDecoder().decode(bytes);
  const gzip = gzipSync(bytes, { level: 9 }).length;
  sizes.push({ ...program, text, minified: bytes.length, gzip });
  const ok = gzip <= program.budget;
  if (!ok) failed = true;
  log(
    `size: ${program.name}: ${bytes.length} B minified, ${gzip} B gzip -9 (budget ${program.budget} B) ${ok ? "ok" : "OVER BUDGET"}`,
  );
  if (/\bfrom\s*"node:|require\("node:/.test(text)) {
    failed = true;
    log(`size: ${program.name}: the bundle imports a node: module`);
  }
}
const [sha1Only, all] = sizes;
const shaken = hasSha512(all.text) && !hasSha512(sha1Only.text);
if (!hasSha512(all.text)) {
  failed = true;
  log("size: the SHA-512 detector found nothing in the all-algorithms bundle; the check is broken");
} else if (hasSha512(sha1Only.text)) {
  failed = true;
  log("size: SHA-512 code is present in the SHA-1-only bundle: tree-shaking failed");
} else {
  log("size: SHA-512 code is absent from the SHA-1-only bundle (tree-shaken)");
}
// health-token/http: the handlers and what they pull from the service, its dependencies (zod, @noble/hashes)
// left out; it must not import a node: module (it runs on any Fetch-standard runtime).
{
  const httpEntry = new URL("../src/http/index.ts", import.meta.url).pathname;
  const budget = 8000;
  const result = await build({
    entryPoints: [httpEntry],
    bundle: true,
    minify: true,
    platform: "neutral",
    format: "esm",
    target: "es2022",
    external: ["zod", "@noble/hashes", "@noble/hashes/*"],
    write: false,
    logLevel: "silent",
  });
  const bytes = result.outputFiles[0].contents;
  const gzip = gzipSync(bytes, { level: 9 }).length;
  const ok = gzip <= budget;
  if (!ok) failed = true;
  log(
    `size: health-token/http (deps external): ${bytes.length} B minified, ${gzip} B gzip -9 (budget ${budget} B) ${ok ? "ok" : "OVER BUDGET"}`,
  );
  if (/\bfrom\s*"node:|require\("node:/.test(new TextDecoder().decode(bytes))) {
    failed = true;
    log("size: health-token/http imports a node: module");
  }
}
if (json) {
  const programsOut = sizes.map(({ name, budget, minified, gzip }) => ({ name, budget, minified, gzip }));
  console.log(JSON.stringify({ programs: programsOut, sha512TreeShaken: shaken, ok: !failed }));
}
process.exit(failed ? 1 : 0);
