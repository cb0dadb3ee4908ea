import * as OTPAuth from "otpauth";
import { describe, expect, it } from "vitest";
import { ConfigError } from "../../../src/errors.js";
import { createTokenService } from "../../../src/service/token-service.js";
import { adult, PEPPER, setup, testKey } from "./helpers.js";

const KEY_A = testKey("secrets key A");
const KEY_B = { id: "key-b", key: testKey("secrets key B") };

function secretOf(uri: string): string {
  return new URL(uri).searchParams.get("secret")!;
}
function totpAt(secret: string, ms: number, period = 30): string {
  return new OTPAuth.TOTP({ secret: OTPAuth.Secret.fromBase32(secret), digits: 6, period }).generate({
    timestamp: ms,
  });
}

describe("app mode", () => {
  it("enrolls (secret stored only encrypted) and verifies a code from an independent TOTP app", async () => {
    const { tokens, store, clock, events } = setup({ secretsKey: KEY_A });
    const enrollment = await tokens.enrollApp(adult());
    expect(enrollment.otpauthUri).toMatch(/^otpauth:\/\/totp\/health-token:ben-1\?secret=[A-Z2-7]{32}&/);
    expect(enrollment.otpauthUri).toContain("&algorithm=SHA1&digits=6&period=30");
    expect(secretOf(enrollment.otpauthUri)).toBe(enrollment.secret);
    const record = (await store.getAppSecret("ben-1"))!;
    expect(record.ciphertext).not.toContain(enrollment.secret);
    expect(JSON.stringify(store.debugSnapshot())).not.toContain(enrollment.secret);
    const code = totpAt(enrollment.secret, clock.now());
    const r = await tokens.verifyAppCode({ guideId: "g-1", providerId: "p-1", beneficiaryId: "ben-1", code });
    expect(r).toMatchObject({ ok: true, receipt: { guideId: "g-1", providerId: "p-1", mode: "app", code } });
    expect(events.map((e) => e.type)).toEqual(["app.enrolled", "token.verified"]);
  });

  it("accepts ±1 step, refuses ±2; a replayed step is consumed", async () => {
    const { tokens, clock } = setup({ secretsKey: KEY_A });
    const { secret } = await tokens.enrollApp(adult());
    const now = clock.now();
    const at = (dSteps: number) => totpAt(secret, now + dSteps * 30_000);
    const v = (code: string, guideId = "g") =>
      tokens.verifyAppCode({ guideId, providerId: "p", beneficiaryId: "ben-1", code });
    expect((await v(at(-1), "g1")).ok).toBe(true);
    expect((await v(at(1), "g2")).ok).toBe(true);
    expect(await v(at(1), "g3")).toEqual({ ok: false, reason: "consumed" });
    const far = at(2);
    if (![at(-1), at(0), at(1)].includes(far))
      expect(await v(far, "g4")).toMatchObject({ reason: "mismatch" });
    expect(await v("12 34", "g5")).toEqual({ ok: false, reason: "malformed" });
  });

  it("5 wrong app codes on a guide lock it, even for the right code afterwards", async () => {
    const { tokens, clock } = setup({ secretsKey: KEY_A });
    const { secret } = await tokens.enrollApp(adult());
    const right = totpAt(secret, clock.now());
    const wrongCode = String((Number(right) + 500_000) % 1_000_000).padStart(6, "0");
    const v = (code: string) =>
      tokens.verifyAppCode({ guideId: "g", providerId: "p", beneficiaryId: "ben-1", code });
    for (let i = 4; i >= 0; i--)
      expect(await v(wrongCode)).toEqual({ ok: false, reason: "mismatch", attemptsLeft: i });
    expect(await v(right)).toEqual({ ok: false, reason: "locked" });
    const results = await Promise.all(Array.from({ length: 50 }, () => v(right)));
    expect(results.every((r) => !r.ok)).toBe(true);
  });

  it("concurrent correct app codes: exactly one ok", async () => {
    const { tokens, clock } = setup({ secretsKey: KEY_A, policy: { maxAttempts: 100 } });
    const { secret } = await tokens.enrollApp(adult());
    const code = totpAt(secret, clock.now());
    const results = await Promise.all(
      Array.from({ length: 100 }, (_, i) =>
        tokens.verifyAppCode({ guideId: `g${i}`, providerId: "p", beneficiaryId: "ben-1", code }),
      ),
    );
    expect(results.filter((r) => r.ok)).toHaveLength(1);
  });

  it("key rotation: records under an old key still verify and are re-encrypted under the new key", async () => {
    const a = setup({ secretsKey: KEY_A });
    const { secret } = await a.tokens.enrollApp(adult());
    const oldKeyId = (await a.store.getAppSecret("ben-1"))!.keyId;
    const rotated = createTokenService({
      store: a.store,
      notifier: a.outbox,
      pepper: PEPPER,
      clock: a.clock,
      secretsKey: [KEY_B, KEY_A],
    });
    const code = totpAt(secret, a.clock.now());
    expect(
      (await rotated.verifyAppCode({ guideId: "g", providerId: "p", beneficiaryId: "ben-1", code })).ok,
    ).toBe(true);
    expect((await a.store.getAppSecret("ben-1"))!.keyId).toBe("key-b");
    expect(oldKeyId).toMatch(/^k[A-Za-z0-9_-]{10}$/);
    const withoutKey = createTokenService({
      store: a.store,
      notifier: a.outbox,
      pepper: PEPPER,
      clock: a.clock,
      secretsKey: KEY_A,
    });
    a.clock.advance(60_000);
    await expect(
      withoutKey.verifyAppCode({
        guideId: "g2",
        providerId: "p",
        beneficiaryId: "ben-1",
        code: totpAt(secret, a.clock.now()),
      }),
    ).rejects.toBeInstanceOf(ConfigError);
  });

  it("a ciphertext moved to another beneficiary does not decrypt; no secretsKey is a ConfigError", async () => {
    const { tokens, store } = setup({ secretsKey: KEY_A });
    await tokens.enrollApp(adult());
    const record = (await store.getAppSecret("ben-1"))!;
    await store.putAppSecret({ ...record, beneficiaryId: "intruder" });
    await expect(
      tokens.verifyAppCode({ guideId: "g", providerId: "p", beneficiaryId: "intruder", code: "123456" }),
    ).rejects.toBeInstanceOf(ConfigError);
    const plain = setup();
    await expect(plain.tokens.enrollApp(adult())).rejects.toBeInstanceOf(ConfigError);
    expect(
      await plain.tokens.verifyAppCode({
        guideId: "g",
        providerId: "p",
        beneficiaryId: "nobody",
        code: "123456",
      }),
    ).toEqual({
      ok: false,
      reason: "not_found",
    });
  });

  it("a 30-minute app code (Unimed): step 300 s, 6 past steps, 1 future step; valid to the last ms", async () => {
    const policy = { app: { stepSeconds: 300, pastSteps: 6, futureSteps: 1 } };
    const { tokens, clock } = setup({ secretsKey: KEY_A, policy });
    const { secret, otpauthUri } = await tokens.enrollApp(adult());
    expect(otpauthUri).toContain("period=300");
    const stepMs = 300_000;
    const step = Math.floor(clock.now() / stepMs);
    const shownAt = (step + 1) * stepMs - 1; // the last millisecond of its step: the worst case
    const code = totpAt(secret, shownAt, 300);
    const v = (guideId: string) =>
      tokens.verifyAppCode({ guideId, providerId: "p", beneficiaryId: "ben-1", code });
    clock.set(shownAt + 30 * 60_000); // 30 minutes after it appeared: still valid
    expect((await v("g-late")).ok).toBe(true);
    // A second code of the same step is a replay; the last accepted instant is (step + 7) × 300 s − 1 ms.
    expect(await v("g-again")).toEqual({ ok: false, reason: "consumed" });
    const other = setup({ secretsKey: KEY_A, policy });
    const enrolled = await other.tokens.enrollApp(adult("ben-2"));
    const c2 = totpAt(enrolled.secret, shownAt, 300);
    const v2 = (guideId: string) =>
      other.tokens.verifyAppCode({ guideId, providerId: "p", beneficiaryId: "ben-2", code: c2 });
    other.clock.set((step + 7) * stepMs);
    expect(await v2("g-1ms-past")).toMatchObject({ ok: false, reason: "mismatch" });
    other.clock.set((step + 7) * stepMs - 1);
    expect((await v2("g-at-edge")).ok).toBe(true);
  });

  it("refuses an app window that accepts more than 16 steps per code", () => {
    const make = (app: Record<string, number>) => () =>
      setup({ secretsKey: KEY_A, policy: { app } as never });
    expect(make({ stepSeconds: 60, pastSteps: 13, futureSteps: 3 })).toThrow(ConfigError);
    expect(make({ stepSeconds: 60, pastSteps: 12, futureSteps: 3 })).not.toThrow();
    expect(make({ stepSeconds: 3600, windowSteps: 3, pastSteps: 13 })).toThrow(ConfigError);
    expect(make({ stepSeconds: 3601 })).toThrow(ConfigError);
    expect(make({ stepSeconds: 1800, pastSteps: 1, futureSteps: 1 })).not.toThrow();
  });
});
