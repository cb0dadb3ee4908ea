import { describe, expect, it } from "vitest";
import { MemoryTokenStore } from "../../../src/adapters/memory.js";
import { ConfigError, LockedOutError, RateLimitedError } from "../../../src/errors.js";
import { rateLimitKeys, secondsUntil, takeIssue } from "../../../src/policy/rate-limit.js";
import { DEFAULT_POLICY, resolvePolicy } from "../../../src/policy/token-policy.js";

describe("token policy", () => {
  it("has every documented default", () => {
    expect(DEFAULT_POLICY).toEqual({
      digits: 6,
      ttlSeconds: 1800,
      maxAttempts: 5,
      resendCooldownSeconds: 60,
      maxSendsPerGuide: 5,
      sendWindowSeconds: 1800,
      maxFailuresPerBeneficiary: 10,
      failureWindowSeconds: 86_400,
      adultAgeYears: 18,
      utcOffsetMinutes: -180,
      channelOrder: ["app", "sms", "whatsapp", "email"],
      fallback: true,
      locale: "pt-BR",
      app: { stepSeconds: 30, windowSteps: 1, digits: 6, issuer: "health-token" },
    });
  });

  it("merges a partial policy (10-minute TTL, as NIST recommends)", () => {
    const policy = resolvePolicy({ ttlSeconds: 600, app: { windowSteps: 0 } });
    expect(policy.ttlSeconds).toBe(600);
    expect(policy.app).toEqual({ ...DEFAULT_POLICY.app, windowSteps: 0 });
    expect(policy.maxAttempts).toBe(5);
  });

  it("refuses bad values and unknown keys with ConfigError naming the field", () => {
    const cases: [unknown, string][] = [
      [{ digits: 3 }, "digits"],
      [{ digits: 11 }, "digits"],
      [{ ttlSeconds: 1.5 }, "ttlSeconds"],
      [{ maxAttempts: 0 }, "maxAttempts"],
      [{ channelOrder: [] }, "channelOrder"],
      [{ channelOrder: ["sms", "sms"] }, "channelOrder"],
      [{ channelOrder: ["fax"] }, "channelOrder"],
      [{ ttlSecs: 600 }, "policy"],
      [{ app: { stepSeconds: 5 } }, "app.stepSeconds"],
    ];
    for (const [input, field] of cases) {
      let error: unknown;
      try {
        resolvePolicy(input as never);
      } catch (e) {
        error = e;
      }
      expect(error, JSON.stringify(input)).toBeInstanceOf(ConfigError);
      expect((error as Error).message).toContain(field);
    }
  });
});

describe("rate limits", () => {
  it("secondsUntil rounds up and is at least 1", () => {
    expect(secondsUntil(1000, 999)).toBe(1);
    expect(secondsUntil(1000, 1000)).toBe(1);
    expect(secondsUntil(61_000, 0)).toBe(61);
    expect(secondsUntil(60_001, 0)).toBe(61);
  });

  it("of 20 concurrent sends for one guide exactly one passes; a refused send consumes nothing", async () => {
    const store = new MemoryTokenStore();
    const target = { guideId: "g", beneficiaryId: "b" };
    const results = await Promise.allSettled(
      Array.from({ length: 20 }, () => takeIssue(store, DEFAULT_POLICY, target, 0)),
    );
    expect(results.filter((r) => r.status === "fulfilled")).toHaveLength(1);
    for (const r of results) {
      if (r.status === "rejected") expect(r.reason).toBeInstanceOf(RateLimitedError);
    }
    expect((await store.peek(rateLimitKeys.sends("g"), 0)).count).toBe(1);
    await expect(takeIssue(store, DEFAULT_POLICY, target, 59_999)).rejects.toMatchObject({
      limit: "cooldown",
    });
    await expect(takeIssue(store, DEFAULT_POLICY, target, 60_000)).resolves.toBeUndefined();
  });

  it("a locked-out beneficiary is refused first, and the refusal takes no send and starts no cooldown", async () => {
    const store = new MemoryTokenStore();
    const target = { guideId: "g", beneficiaryId: "b" };
    const windowMs = DEFAULT_POLICY.failureWindowSeconds * 1000;
    for (let i = 0; i < DEFAULT_POLICY.maxFailuresPerBeneficiary; i++) {
      await store.increment(rateLimitKeys.failures("b"), windowMs, 0);
    }
    await expect(takeIssue(store, DEFAULT_POLICY, target, 1000)).rejects.toBeInstanceOf(LockedOutError);
    expect((await store.peek(rateLimitKeys.sends("g"), 1000)).count).toBe(0);
    expect((await store.peek(rateLimitKeys.cooldown("g"), 1000)).count).toBe(0);
    // Another beneficiary's issue for the same guide is not affected by b's lockout.
    await expect(
      takeIssue(store, DEFAULT_POLICY, { guideId: "g", beneficiaryId: "c" }, 1000),
    ).resolves.toBeUndefined();
    // At the end of the failure window the lockout is over (the guide's cooldown still applies).
    await expect(takeIssue(store, DEFAULT_POLICY, target, windowMs)).resolves.toBeUndefined();
  });

  it("the lockout, cooldown and sends reads are in flight together (one round-trip time on a network store)", async () => {
    let inFlight = 0;
    let most = 0;
    class SlowReads extends MemoryTokenStore {
      override async peek(key: string, nowMs: number) {
        inFlight++;
        most = Math.max(most, inFlight);
        await new Promise((resolve) => setTimeout(resolve, 5));
        inFlight--;
        return super.peek(key, nowMs);
      }
    }
    await takeIssue(new SlowReads(), DEFAULT_POLICY, { guideId: "g", beneficiaryId: "b" }, 0);
    expect(most).toBe(3);
  });

  it("with sends exhausted the refusal names sends_per_guide and starts no cooldown", async () => {
    const policy = { ...DEFAULT_POLICY, resendCooldownSeconds: 0, maxSendsPerGuide: 2 };
    const store = new MemoryTokenStore();
    const target = { guideId: "g", beneficiaryId: "b" };
    await takeIssue(store, policy, target, 0);
    await takeIssue(store, policy, target, 1);
    await expect(takeIssue(store, policy, target, 2)).rejects.toMatchObject({ limit: "sends_per_guide" });
    expect((await store.peek(rateLimitKeys.sends("g"), 2)).count).toBe(2);
    expect((await store.peek(rateLimitKeys.cooldown("g"), 2)).count).toBe(0);
  });

  it("refuses CR, LF and other control characters in operatorName and the app issuer", () => {
    for (const name of ["Operadora\r\nBcc: x", "Op\nX", "Op\u0000", "Op\u007f", "Op\ud800"]) {
      expect(() => resolvePolicy({ operatorName: name })).toThrow(ConfigError);
      expect(() => resolvePolicy({ app: { issuer: name } })).toThrow(ConfigError);
    }
    expect(resolvePolicy({ operatorName: "Operadora Saúde Ç" }).operatorName).toBe("Operadora Saúde Ç");
  });
});
