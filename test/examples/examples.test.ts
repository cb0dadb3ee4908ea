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
  it("quickstart.ts (npm run demo) tells the whole story, naming the recipient of each code, and exits 0", () => {
    const out = run("examples/quickstart.ts");
    const lines = out.split("\n").map((line) => line.trim());
    // Each channel, and who received the code where (masked).
    for (const line of [
      "→ Maria (beneficiary) by sms at (43) 9****-0001",
      "→ Maria (beneficiary) by whatsapp at (43) 9****-0001",
      "→ João (beneficiary) by email at j***@e***.com",
      "→ Maria (guardian) by sms at (43) 9****-0001, for Lucas",
      "→ Maria (beneficiary) by email at m***@e***.com",
      "✓ the app code to confirm the guide with no message sent",
      // The failing channel and its fallback.
      "✓ the e-mail to João after the WhatsApp failure",
      // The resend cooldown, then the same code again.
      "✓ RateLimitedError (cooldown), retry after 60 s",
      "✓ the same token sent again (the late first message still works)",
      // The lockout and its reset.
      "✓ LockedOutError after 10 failures",
      "✓ limits() to say locked_out",
      "wasLocked true; limits now: failures 0/10",
      // Table 74, and billing with either TISS field.
      "✓ ausenciaCodValidacao 07 (Beneficiário não possui celular)",
      "✓ Ana's guide billed, its TISS XML carrying ausenciaCodValidacao 07",
      "✓ the XML to carry Maria's code as codValidacao",
      "Every step behaved as narrated.",
    ]) {
      expect(
        lines.some((l) => l.startsWith(line)),
        line,
      ).toBe(true);
    }
    expect(out).toMatch(/^\s+limits: locked_out, failures 10\/10, until \d{4}-\d\d-\d\dT/m);
    expect(out).toMatch(/<ans:codValidacao>\d{6}<\/ans:codValidacao>/);
    expect(out).not.toMatch(/SURPRISE/);
    // No clear contact printed outside the outbox's own lines and the XML.
    expect(out).not.toContain("maria.demo@example.com");
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
