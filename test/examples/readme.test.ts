import { execFileSync } from "node:child_process";
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
    try {
      const out = execFileSync("npx", ["tsx", file], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
      expect(out).toMatch(/code sent by sms to \(43\) 9\*{4}-0001/);
      expect(out).toMatch(/confirmed \{ codValidacao: '\d{6}' \}/);
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
