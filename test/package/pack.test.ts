import { execFileSync } from "node:child_process";
import { describe, expect, it } from "vitest";

interface PackEntry {
  files: { path: string }[];
}

describe("npm pack", () => {
  it("contains only dist, the README, the license, the changelog and package.json", () => {
    const out = execFileSync("npm", ["pack", "--dry-run", "--json", "--ignore-scripts"], {
      encoding: "utf8",
      stdio: ["ignore", "pipe", "ignore"],
    });
    const [entry] = JSON.parse(out) as PackEntry[];
    const paths = entry!.files.map((f) => f.path).sort();
    const allowed = /^(dist\/.+|README\.md|LICENSE|CHANGELOG\.md|package\.json)$/;
    expect(paths.filter((p) => !allowed.test(p))).toEqual([]);
    for (const required of ["README.md", "LICENSE", "CHANGELOG.md", "package.json", "dist/index.js"]) {
      expect(paths).toContain(required);
    }
    // Every public entry ships ESM, CJS and both declaration flavours.
    for (const entryName of [
      "index",
      "otp",
      "testing",
      "redis",
      "postgres",
      "smtp",
      "whatsapp",
      "sms",
      "webhook",
    ]) {
      for (const ext of [".js", ".cjs", ".d.ts", ".d.cts"])
        expect(paths).toContain(`dist/${entryName}${ext}`);
    }
  });
});
