import { execFileSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { describeWithService, probePostgres, probeRedis } from "../helpers/services.js";

/** Runs an example as a user would (tsx resolves the package name to src through tsconfig paths). */
const run = (file: string) =>
  execFileSync("npx", ["tsx", file], {
    encoding: "utf8",
    stdio: ["ignore", "pipe", "pipe"],
    timeout: 60_000,
  });

describe("examples", () => {
  it("quickstart.ts (npm run demo) narrates the attendance and exits 0", () => {
    const out = run("examples/quickstart.ts");
    expect(out.length).toBeGreaterThan(200);
    expect(out).not.toMatch(/UNEXPECTED|unexpected/);
  });

  it("app-totp.ts enrolls an app, verifies once and refuses the replay", () => {
    const out = run("examples/app-totp.ts");
    expect(out).toContain("first use: ok");
    expect(out).toContain("replay: consumed");
  });
});

const [redis, postgres] = await Promise.all([probeRedis(), probePostgres()]);
describeWithService(
  redis.ok ? postgres : redis,
  "examples/redis-postgres.ts against the real servers",
  () => {
    it("runs an attendance on each store", () => {
      const out = run("examples/redis-postgres.ts");
      expect(out).toContain("redis: sent to");
      expect(out).toContain("postgres: sent to");
      expect(out).toContain("again consumed");
    });
  },
);
