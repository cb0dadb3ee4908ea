/**
 * HOTP, RFC 4226: an HMAC over an 8-byte counter, dynamically truncated to `digits` decimal digits.
 *
 * @module
 */

import { argObject } from "../_internal/args.js";
import { InvalidArgumentError } from "../errors.js";
import { type Algorithm, type OtpHash, otpValue, prepareKey, registeredHash } from "./_hmac.js";
import { hmacSha1 } from "./_sha1.js";

/** Options shared by every OTP function. */
export interface OtpOptions {
  /** Number of digits, 6 to 10. Default 6. */
  digits?: number | undefined;
  /**
   * The hash: `"SHA1"` (default), `"SHA256"`, `"SHA512"`, or one of the cores {@link hmacSha1},
   * {@link hmacSha256}, {@link hmacSha512}.
   */
  algorithm?: Algorithm | OtpHash | undefined;
}

/** Options of {@link verifyHotp}. */
export interface VerifyHotpOptions extends OtpOptions {
  /** The next counter the server expects. */
  counter: number | bigint;
  /** How many counters after `counter` to accept too (resynchronisation, RFC 4226 §7.4), 0 to 1000. Default 0. */
  lookAhead?: number | undefined;
}

/** The result of {@link verifyHotp}: on success, the counter that matched (same type as the one given). */
export type VerifyHotpResult = { valid: true; counter: number | bigint } | { valid: false };

const POW10 = [1e6, 1e7, 1e8, 1e9, 1e10];
const TWO32 = 0x100000000;
const MAX_COUNTER = 0xffffffffffffffffn;

function issue(path: string, message: string): InvalidArgumentError {
  return new InvalidArgumentError(`${path} ${message}`, [{ path, message }]);
}

/** @internal Validates `digits` (integer 6–10, default 6). */
export function checkDigits(digits: number | undefined): number {
  if (digits === undefined) return 6;
  if (!Number.isInteger(digits) || digits < 6 || digits > 10)
    throw issue("digits", "must be an integer from 6 to 10");
  return digits;
}

/**
 * @internal Finds the core for an algorithm name or core. `"SHA256"`/`"SHA512"` are found once their module
 * has been loaded, which importing `health-token/otp` does, unless a bundler dropped them as unused.
 */
export function resolveHash(algorithm: Algorithm | OtpHash | undefined): OtpHash {
  if (algorithm === undefined || algorithm === "SHA1") return hmacSha1;
  if (typeof algorithm === "object" && algorithm !== null && typeof algorithm.c === "function")
    return algorithm;
  if (algorithm === "SHA256" || algorithm === "SHA512") {
    const hash = registeredHash(algorithm);
    if (hash) return hash;
    throw issue(
      "algorithm",
      `${algorithm} was removed from this bundle: import { hmac${algorithm.slice(0, 1)}${algorithm.slice(1).toLowerCase()} } from "health-token/otp" and pass it as the algorithm`,
    );
  }
  throw issue("algorithm", 'must be "SHA1", "SHA256" or "SHA512"');
}

/** @internal Validates the secret: a non-empty Uint8Array. */
export function checkSecret(secret: Uint8Array): Uint8Array {
  if (!(secret instanceof Uint8Array)) throw issue("secret", "must be a Uint8Array");
  if (secret.length === 0) throw issue("secret", "must not be empty");
  return secret;
}

/**
 * @internal Splits a counter into its high and low 32-bit halves. Numbers: integers 0 to 2^53−1; bigints:
 * 0 to 2^64−1.
 */
export function splitCounter(counter: number | bigint, path = "counter"): [hi: number, lo: number] {
  if (typeof counter === "bigint") {
    if (counter < 0n || counter > MAX_COUNTER) throw issue(path, "must be a bigint from 0 to 2^64-1");
    return [Number(counter >> 32n), Number(counter & 0xffffffffn)];
  }
  if (typeof counter !== "number" || !Number.isSafeInteger(counter) || counter < 0) {
    throw issue(path, "must be an integer from 0 to 2^53-1 (or a bigint)");
  }
  return [Math.floor(counter / TWO32), counter >>> 0];
}

/** @internal The code for one counter, from a prepared key. */
export function codeAt(hash: OtpHash, key: Int32Array, hi: number, lo: number, digits: number): string {
  return `${valueAt(hash, key, hi, lo, digits)}`.padStart(digits, "0");
}

/**
 * @internal Parses a candidate code: exactly `digits` ASCII digits, else -1. Never throws.
 */
export function parseCode(code: unknown, digits: number): number {
  if (typeof code !== "string" || code.length !== digits) return -1;
  let value = 0;
  for (let i = 0; i < digits; i++) {
    const d = code.charCodeAt(i) - 48;
    if (d < 0 || d > 9) return -1;
    value = value * 10 + d;
  }
  return value;
}

/** @internal The truncated value for one counter reduced to `digits`, from a prepared key. */
export function valueAt(hash: OtpHash, key: Int32Array, hi: number, lo: number, digits: number): number {
  return otpValue(hash, key, hi | 0, lo | 0) % POW10[digits - 6]!;
}

/**
 * The HOTP code for `counter` (RFC 4226 §5.3).
 *
 * @param secret - the shared secret (RFC 4226 asks for at least 16 bytes; 20 is the default elsewhere)
 * @param counter - an integer from 0 to 2^53−1, or a bigint from 0 to 2^64−1
 * @param options - `digits` (6–10, default 6), `algorithm` (default `"SHA1"`)
 * @returns the code, `digits` ASCII digits with leading zeros
 * @throws {@link InvalidArgumentError} for an empty secret, a bad counter, digits or algorithm
 *
 * @example
 * ```ts
 * const secret = new TextEncoder().encode("12345678901234567890");
 * hotp(secret, 0); // "755224" (RFC 4226 Appendix D)
 * ```
 */
export function hotp(secret: Uint8Array, counter: number | bigint, options?: OtpOptions): string {
  const digits = checkDigits(options?.digits);
  const hash = resolveHash(options?.algorithm);
  const [hi, lo] = splitCounter(counter);
  return codeAt(hash, prepareKey(hash, checkSecret(secret)), hi, lo, digits);
}

/**
 * Checks a HOTP code against `counter` … `counter + lookAhead`. Every counter of the range is computed and
 * compared (no early exit), in time independent of where or whether the code matched. A malformed code (not
 * exactly `digits` ASCII digits) is `{ valid: false }`, never a throw. On success, store `counter + 1` as the
 * next expected counter so the code cannot be replayed.
 *
 * @returns `{ valid: true, counter }` with the matching counter (a bigint if `options.counter` was one), or
 *   `{ valid: false }`
 * @throws {@link InvalidArgumentError} for an empty secret, a bad counter, look-ahead, digits or algorithm
 *
 * @example
 * ```ts
 * const result = verifyHotp(secret, "287082", { counter: 0, lookAhead: 5 });
 * if (result.valid) saveNextCounter(BigInt(result.counter) + 1n); // matched counter 1
 * ```
 */
export function verifyHotp(secret: Uint8Array, code: string, options: VerifyHotpOptions): VerifyHotpResult {
  argObject(options, "options");
  const digits = checkDigits(options.digits);
  const hash = resolveHash(options.algorithm);
  const lookAhead = options.lookAhead ?? 0;
  if (!Number.isInteger(lookAhead) || lookAhead < 0 || lookAhead > 1000) {
    throw issue("lookAhead", "must be an integer from 0 to 1000");
  }
  const start = options.counter;
  let [hi, lo] = splitCounter(start);
  const key = prepareKey(hash, checkSecret(secret));
  const candidate = parseCode(code, digits);
  // Counters past the top of the range (2^53-1 for numbers, 2^64-1 for bigints) are skipped, not wrapped.
  const room = typeof start === "bigint" ? MAX_COUNTER - start : Number.MAX_SAFE_INTEGER - start;
  const last = room < lookAhead ? Number(room) : lookAhead;
  let found = -1;
  for (let i = 0; i <= last; i++) {
    // Constant time per step: the value is always computed; the comparison is one integer equality.
    const matched = valueAt(hash, key, hi, lo, digits) === candidate;
    if (matched && found < 0) found = i;
    lo = (lo + 1) >>> 0;
    if (lo === 0) hi = (hi + 1) >>> 0;
  }
  if (candidate < 0 || found < 0) return { valid: false };
  return { valid: true, counter: typeof start === "bigint" ? start + BigInt(found) : start + found };
}
