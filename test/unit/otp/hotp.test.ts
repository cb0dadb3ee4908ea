import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  type Algorithm,
  HealthTokenError,
  hotp,
  InvalidArgumentError,
  verifyHotp,
} from "../../../src/otp/index.js";
import { RFC4226_APPENDIX_D, RFC4226_SECRET } from "../../vectors/rfc4226.js";
import { ascii, referenceHotp } from "./_reference.js";

const secret = ascii(RFC4226_SECRET);
const ALGORITHMS: Algorithm[] = ["SHA1", "SHA256", "SHA512"];

describe("hotp", () => {
  it.each(RFC4226_APPENDIX_D)(
    "RFC 4226 Appendix D: counter $counter gives $hotp",
    ({ counter, hotp: code }) => {
      expect(hotp(secret, counter)).toBe(code);
      expect(hotp(secret, BigInt(counter))).toBe(code);
    },
  );

  it("RFC 4226 Appendix D at 8 and 10 digits: the truncated value modulo 10^digits, zero-padded", () => {
    for (const row of RFC4226_APPENDIX_D) {
      expect(hotp(secret, row.counter, { digits: 8 })).toBe(String(row.truncated % 1e8).padStart(8, "0"));
      expect(hotp(secret, row.counter, { digits: 10 })).toBe(String(row.truncated).padStart(10, "0"));
    }
  });

  it("handles counters at and above 2^31, 2^32 and 2^53 exactly like the @noble/hashes reference", () => {
    const counters: (number | bigint)[] = [
      2 ** 31 - 1,
      2 ** 31,
      2 ** 32 - 1,
      2 ** 32,
      2 ** 32 + 1,
      2 ** 53 - 1,
      2n ** 53n + 1n,
      2n ** 63n,
      2n ** 64n - 1n,
    ];
    for (const counter of counters) {
      for (const algorithm of ALGORITHMS) {
        expect(hotp(secret, counter, { algorithm })).toBe(
          referenceHotp(secret, BigInt(counter), 6, algorithm),
        );
      }
    }
    // A number and the same bigint agree.
    expect(hotp(secret, 2 ** 53 - 1)).toBe(hotp(secret, 2n ** 53n - 1n));
    expect(hotp(secret, 2 ** 32 + 1)).not.toBe(hotp(secret, 1));
  });

  it("equals a reference built on @noble/hashes for random secrets, counters, digits and algorithms", () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 1, maxLength: 160 }),
        fc.oneof(fc.maxSafeNat(), fc.bigInt({ min: 0n, max: 2n ** 64n - 1n })),
        fc.integer({ min: 6, max: 10 }),
        fc.constantFrom(...ALGORITHMS),
        (key, counter, digits, algorithm) => {
          expect(hotp(key, counter, { digits, algorithm })).toBe(
            referenceHotp(key, BigInt(counter), digits, algorithm),
          );
        },
      ),
      { numRuns: 500 },
    );
  });

  it("throws InvalidArgumentError for negative, non-integer, unsafe or out-of-range counters", () => {
    for (const counter of [-1, 1.5, 2 ** 53, Number.NaN, Number.POSITIVE_INFINITY, -1n, 2n ** 64n]) {
      expect(() => hotp(secret, counter)).toThrow(InvalidArgumentError);
    }
    expect(() => hotp(secret, "1" as unknown as number)).toThrow(InvalidArgumentError);
  });

  it("throws InvalidArgumentError for misuse: empty secret, digits out of 6–10, unknown algorithm", () => {
    expect(() => hotp(new Uint8Array(0), 0)).toThrow(InvalidArgumentError);
    expect(() => hotp("secret" as unknown as Uint8Array, 0)).toThrow(InvalidArgumentError);
    for (const digits of [5, 11, 6.5, 0])
      expect(() => hotp(secret, 0, { digits })).toThrow(InvalidArgumentError);
    for (const algorithm of ["sha1", "MD5", "SHA-256", ""]) {
      expect(() => hotp(secret, 0, { algorithm: algorithm as Algorithm })).toThrow(InvalidArgumentError);
    }
    try {
      hotp(secret, 0, { digits: 11 });
    } catch (error) {
      expect(error).toBeInstanceOf(HealthTokenError);
      expect((error as InvalidArgumentError).code).toBe("INVALID_ARGUMENT");
      expect((error as InvalidArgumentError).issues).toEqual([
        { path: "digits", message: expect.any(String) },
      ]);
    }
  });
});

describe("verifyHotp", () => {
  it("accepts the code at the counter and within the look-ahead, reporting the matching counter", () => {
    expect(verifyHotp(secret, "755224", { counter: 0 })).toEqual({ valid: true, counter: 0 });
    expect(verifyHotp(secret, "969429", { counter: 1, lookAhead: 2 })).toEqual({ valid: true, counter: 3 });
    expect(verifyHotp(secret, "969429", { counter: 1, lookAhead: 1 })).toEqual({ valid: false });
    expect(verifyHotp(secret, "755224", { counter: 1, lookAhead: 9 })).toEqual({ valid: false });
  });

  it("keeps the counter's type, and carries across the 32-bit boundary", () => {
    const start = 2n ** 32n - 2n;
    const code = hotp(secret, 2n ** 32n + 1n);
    expect(verifyHotp(secret, code, { counter: start, lookAhead: 3 })).toEqual({
      valid: true,
      counter: 2n ** 32n + 1n,
    });
    expect(verifyHotp(secret, code, { counter: Number(start), lookAhead: 3 })).toEqual({
      valid: true,
      counter: 2 ** 32 + 1,
    });
  });

  it("stops at the top of the counter range instead of wrapping to 0", () => {
    const zero = hotp(secret, 0);
    expect(verifyHotp(secret, zero, { counter: 2n ** 64n - 1n, lookAhead: 5 })).toEqual({ valid: false });
    expect(
      verifyHotp(secret, hotp(secret, 2n ** 64n - 1n), { counter: 2n ** 64n - 2n, lookAhead: 5 }),
    ).toEqual({
      valid: true,
      counter: 2n ** 64n - 1n,
    });
    const top = Number.MAX_SAFE_INTEGER;
    expect(verifyHotp(secret, hotp(secret, top), { counter: top - 1, lookAhead: 5 })).toEqual({
      valid: true,
      counter: top,
    });
  });

  it("treats malformed codes as not valid, never as a throw or a match", () => {
    for (const code of [
      "+55224",
      " 755224",
      "755224 ",
      "７５５２２４",
      "75522",
      "7552240",
      "",
      "75522４",
      "-75522",
    ]) {
      expect(verifyHotp(secret, code, { counter: 0 })).toEqual({ valid: false });
    }
    expect(verifyHotp(secret, 755224 as unknown as string, { counter: 0 })).toEqual({ valid: false });
  });

  it("rejects a bad look-ahead", () => {
    for (const lookAhead of [-1, 1.5, 1001]) {
      expect(() => verifyHotp(secret, "755224", { counter: 0, lookAhead })).toThrow(InvalidArgumentError);
    }
  });
});
