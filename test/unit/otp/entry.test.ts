import { readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";
import { describe, expect, it } from "vitest";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "../../..");
const entry = join(root, "src/otp/index.ts");

/** Every source file reachable from `file` through relative imports, with its bare (package) imports. */
function graph(file: string, seen = new Map<string, string[]>()): Map<string, string[]> {
  if (seen.has(file)) return seen;
  // Comments (such as @example blocks) do not count.
  const source = readFileSync(file, "utf8")
    .replace(/\/\*[\s\S]*?\*\//g, "")
    .replace(/^\s*\/\/.*$/gm, "");
  const specifiers = [...source.matchAll(/^\s*(?:import|export)\b[^;"']*?from\s*["']([^"']+)["']/gm)].map(
    (m) => m[1]!,
  );
  seen.set(
    file,
    specifiers.filter((s) => !s.startsWith(".")),
  );
  for (const s of specifiers.filter((x) => x.startsWith("."))) {
    graph(resolve(dirname(file), s.replace(/\.js$/, ".ts")), seen);
  }
  return seen;
}

async function bundle(code: string): Promise<Record<string, (...args: unknown[]) => unknown>> {
  const result = await build({
    stdin: { contents: code, resolveDir: root, loader: "ts" },
    bundle: true,
    minify: true,
    platform: "browser",
    format: "esm",
    write: false,
    logLevel: "silent",
  });
  const text = result.outputFiles[0]!.text;
  return import(`data:text/javascript;base64,${Buffer.from(text).toString("base64")}`);
}

describe("the health-token/otp entry", () => {
  it("is browser-safe: nothing it reaches imports a node: module, zod or any other package", () => {
    const files = graph(entry);
    expect(files.size).toBeGreaterThan(5);
    for (const [file, bare] of files) expect(bare, relative(root, file)).toEqual([]);
  });

  it("tree-shaken without hmacSha256, a bundle refuses 'SHA256' with a typed error that says what to import", async () => {
    const mod = await bundle(`import { hotp } from ${JSON.stringify(entry)};
export const sha1 = () => hotp(new TextEncoder().encode("12345678901234567890"), 0);
export const sha256 = () => { try { return hotp(new Uint8Array(20), 0, { algorithm: "SHA256" }); } catch (e) { return e; } };`);
    expect(mod.sha1!()).toBe("755224");
    const error = mod.sha256!() as { code: string; message: string };
    expect(error.code).toBe("INVALID_ARGUMENT");
    expect(error.message).toContain("hmacSha256");
  });

  it("importing hmacSha256 anywhere in the bundle makes the 'SHA256' string work", async () => {
    const mod = await bundle(`import { hotp, hmacSha256 } from ${JSON.stringify(entry)};
export const core = hmacSha256.algorithm;
export const viaString = () => hotp(new TextEncoder().encode("12345678901234567890123456789012"), 1, { algorithm: "SHA256", digits: 8 });`);
    // RFC 6238 Appendix B, SHA256 at T = 1 (59 s).
    expect(mod.viaString!()).toBe("46119246");
  });
});
