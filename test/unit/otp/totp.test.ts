import fc from "fast-check";
import { afterEach, describe, expect, it, vi } from "vitest";
import { InvalidArgumentError, totp, verifyTotp } from "../../../src/otp/index.js";
import { RFC6238_APPENDIX_B, RFC6238_SEEDS } from "../../vectors/rfc6238.js";
import { ascii, referenceHotp } from "./_reference.js";

const sha1Seed = ascii(RFC6238_SEEDS.SHA1);

describe("totp", () => {
  it.each(RFC6238_APPENDIX_B)("RFC 6238 Appendix B: $mode at $timeSeconds s gives $totp", (row) => {
    const seed = ascii(RFC6238_SEEDS[row.mode]);
    const timeMs = row.timeSeconds * 1000;
    expect(totp(seed, { timeMs, digits: 8, algorithm: row.mode })).toBe(row.totp);
    // The same vector at 6 digits is the last six digits (the value modulo 10^6).
    expect(totp(seed, { timeMs, algorithm: row.mode })).toBe(row.totp.slice(2));
    // And T is the step the RFC prints.
    expect(verifyTotp(seed, row.totp, { timeMs, digits: 8, algorithm: row.mode })).toEqual({
      valid: true,
      step: Number.parseInt(row.step, 16),
      delta: 0,
    });
  });

  it("changes code exactly at a step edge: k*30000-1 ms is step k-1, k*30000 ms is step k", () => {
    for (const k of [1, 2, 37_037_037, 66_666_666]) {
      const before = totp(sha1Seed, { timeMs: k * 30_000 - 1 });
      const at = totp(sha1Seed, { timeMs: k * 30_000 });
      expect(before).toBe(referenceHotp(sha1Seed, BigInt(k - 1), 6, "SHA1"));
      expect(at).toBe(referenceHotp(sha1Seed, BigInt(k), 6, "SHA1"));
    }
  });

  it("honours periodSeconds and t0Seconds", () => {
    // 60-second steps: 119 999 ms is step 1, 120 000 ms step 2.
    expect(totp(sha1Seed, { timeMs: 119_999, periodSeconds: 60 })).toBe(
      referenceHotp(sha1Seed, 1n, 6, "SHA1"),
    );
    expect(totp(sha1Seed, { timeMs: 120_000, periodSeconds: 60 })).toBe(
      referenceHotp(sha1Seed, 2n, 6, "SHA1"),
    );
    // T0 = 1000 s: at 1000 s the step is 0, at 1029.999 s still 0, at 1030 s it is 1.
    expect(totp(sha1Seed, { timeMs: 1_000_000, t0Seconds: 1000 })).toBe(
      referenceHotp(sha1Seed, 0n, 6, "SHA1"),
    );
    expect(totp(sha1Seed, { timeMs: 1_029_999, t0Seconds: 1000 })).toBe(
      referenceHotp(sha1Seed, 0n, 6, "SHA1"),
    );
    expect(totp(sha1Seed, { timeMs: 1_030_000, t0Seconds: 1000 })).toBe(
      referenceHotp(sha1Seed, 1n, 6, "SHA1"),
    );
  });

  it("uses the system clock by default", () => {
    vi.useFakeTimers();
    vi.setSystemTime(1_234_567_890_000);
    expect(totp(sha1Seed, { digits: 8 })).toBe("89005924");
    expect(verifyTotp(sha1Seed, "89005924", { digits: 8 })).toEqual({
      valid: true,
      step: 0x273ef07,
      delta: 0,
    });
  });

  afterEach(() => {
    vi.useRealTimers();
  });

  it("throws InvalidArgumentError for misuse: period <= 0, bad time, time before t0, empty secret", () => {
    for (const periodSeconds of [0, -30, Number.NaN, Number.POSITIVE_INFINITY]) {
      expect(() => totp(sha1Seed, { timeMs: 0, periodSeconds })).toThrow(InvalidArgumentError);
      expect(() => verifyTotp(sha1Seed, "000000", { timeMs: 0, periodSeconds })).toThrow(
        InvalidArgumentError,
      );
    }
    expect(() => totp(sha1Seed, { timeMs: Number.NaN })).toThrow(InvalidArgumentError);
    expect(() => totp(sha1Seed, { timeMs: 999, t0Seconds: 1 })).toThrow(InvalidArgumentError);
    expect(() => totp(new Uint8Array(0), { timeMs: 0 })).toThrow(InvalidArgumentError);
    expect(() => totp(sha1Seed, { timeMs: 0, digits: 5 })).toThrow(InvalidArgumentError);
  });
});

describe("verifyTotp", () => {
  const timeMs = 1_111_111_111_000; // step 0x23523ED, RFC 6238 Appendix B

  it("accepts the previous, current and next code by default, with the right delta", () => {
    const step = Math.floor(timeMs / 30_000);
    for (const delta of [-1, 0, 1]) {
      const code = totp(sha1Seed, { timeMs: timeMs + delta * 30_000 });
      expect(verifyTotp(sha1Seed, code, { timeMs })).toEqual({ valid: true, step: step + delta, delta });
    }
    for (const delta of [-2, 2]) {
      const code = totp(sha1Seed, { timeMs: timeMs + delta * 30_000 });
      expect(verifyTotp(sha1Seed, code, { timeMs })).toEqual({ valid: false });
    }
  });

  it("accepts an asymmetric window and window 0", () => {
    const past2 = totp(sha1Seed, { timeMs: timeMs - 60_000 });
    const next = totp(sha1Seed, { timeMs: timeMs + 30_000 });
    expect(verifyTotp(sha1Seed, past2, { timeMs, window: { past: 2, future: 0 } })).toMatchObject({
      delta: -2,
    });
    expect(verifyTotp(sha1Seed, next, { timeMs, window: { past: 2, future: 0 } })).toEqual({ valid: false });
    expect(verifyTotp(sha1Seed, next, { timeMs, window: 0 })).toEqual({ valid: false });
    expect(verifyTotp(sha1Seed, totp(sha1Seed, { timeMs }), { timeMs, window: 0 })).toMatchObject({
      delta: 0,
    });
  });

  it("skips steps before t0 instead of failing", () => {
    expect(verifyTotp(sha1Seed, totp(sha1Seed, { timeMs: 0 }), { timeMs: 0, window: 3 })).toEqual({
      valid: true,
      step: 0,
      delta: 0,
    });
  });

  it("rejects a bad window", () => {
    for (const window of [
      -1,
      1.5,
      101,
      { past: 1, future: -1 },
      { past: 1 } as { past: number; future: number },
    ]) {
      expect(() => verifyTotp(sha1Seed, "000000", { timeMs, window })).toThrow(InvalidArgumentError);
    }
  });

  it("treats malformed codes as not valid: signs, spaces, full-width digits, wrong length, empty", () => {
    const code = totp(sha1Seed, { timeMs }); // "050471"
    expect(verifyTotp(sha1Seed, code, { timeMs }).valid).toBe(true);
    const malformed = [`+${code.slice(1)}`, ` ${code.slice(1)}`, `${code} `, code.slice(1), `${code}0`, ""];
    malformed.push(code.replace(/[0-9]/g, (d) => String.fromCharCode(0xff10 + Number(d)))); // full-width
    malformed.push(`${code.slice(0, 5)}\u0660`); // an Arabic-Indic digit
    for (const candidate of malformed)
      expect(verifyTotp(sha1Seed, candidate, { timeMs })).toEqual({ valid: false });
    expect(verifyTotp(sha1Seed, Number(code) as unknown as string, { timeMs })).toEqual({ valid: false });
  });

  it("property: totp(t + k*period) verifies at t with delta k inside the window and not outside", () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 1, maxLength: 64 }),
        fc.integer({ min: 10 * 30_000, max: 4_000_000_000_000 }),
        fc.integer({ min: 0, max: 3 }),
        fc.integer({ min: 0, max: 3 }),
        fc.integer({ min: -6, max: 6 }),
        fc.constantFrom("SHA1" as const, "SHA256" as const, "SHA512" as const),
        (key, t, past, future, k, algorithm) => {
          const options = { timeMs: t, window: { past, future }, algorithm };
          const code = totp(key, { timeMs: t + k * 30_000, algorithm });
          const result = verifyTotp(key, code, options);
          const step = Math.floor(t / 30_000);
          // Which steps of the window really share this code (a 10^-6 coincidence per step, but possible).
          const matches: number[] = [];
          for (let d = -past; d <= future; d++) {
            if (totp(key, { timeMs: (step + d) * 30_000, algorithm }) === code) matches.push(d);
          }
          if (k >= -past && k <= future) {
            expect(result.valid).toBe(true);
            if (result.valid) {
              const best = Math.min(...matches.map(Math.abs));
              expect(Math.abs(result.delta)).toBe(best);
              expect(result.step).toBe(step + result.delta);
              if (matches.length === 1) expect(result.delta).toBe(k);
            }
          } else {
            expect(result.valid).toBe(matches.length > 0);
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  it("property: arbitrary strings never throw and match only when they are a code of the window", () => {
    const window = new Set([-1, 0, 1].map((d) => totp(sha1Seed, { timeMs: timeMs + d * 30_000 })));
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string(),
          fc.string({ unit: "grapheme" }),
          fc.stringMatching(/^[0-9]{5,7}$/),
          fc.constantFrom(...window),
        ),
        (candidate) => {
          const result = verifyTotp(sha1Seed, candidate, { timeMs });
          expect(result.valid).toBe(window.has(candidate));
        },
      ),
      { numRuns: 2000 },
    );
  });
});
