import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { describe, expect, it } from "vitest";

describe("README", () => {
  it("its quickstart block runs as written", () => {
    const readme = readFileSync("README.md", "utf8");
    const section = readme.split("## Quickstart")[1] ?? "";
    const block = section.match(/```ts\n([\s\S]*?)```/)?.[1];
    expect(block).toBeTruthy();
    const file = "examples/.readme-quickstart.ts";
    writeFileSync(file, block!);
    const run = (pepper: string | undefined) =>
      execFileSync("npx", ["tsx", file], {
        encoding: "utf8",
        stdio: ["ignore", "pipe", "pipe"],
        env: { ...process.env, HEALTH_TOKEN_PEPPER: pepper },
      });
    try {
      // As the README says: `openssl rand -base64 32`.
      const out = run(randomBytes(32).toString("base64"));
      expect(out).toMatch(/code sent by sms to \(43\) 9\*{4}-0001/);
      expect(out).toMatch(/confirmed \{ codValidacao: '\d{6}' \}/);
      // Without the variable it refuses to start, naming the problem.
      expect(() => run("")).toThrow(/pepper 0 must be at least 32 bytes/);
    } finally {
      rmSync(file, { force: true });
    }
  });

  it("names every entry point of the exports map", () => {
    const readme = readFileSync("README.md", "utf8");
    const pkg = JSON.parse(readFileSync("package.json", "utf8")) as { exports: Record<string, unknown> };
    for (const subpath of Object.keys(pkg.exports)) {
      if (subpath === "./package.json") continue;
      expect(readme).toContain(`\`health-token${subpath.slice(1)}\``);
    }
  });
});
