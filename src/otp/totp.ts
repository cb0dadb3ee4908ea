/**
 * TOTP, RFC 6238: HOTP over the number of whole periods elapsed since `t0`.
 *
 * @module
 */
import { InvalidArgumentError } from "../errors.js";
import { systemClock } from "../ports/clock.js";
import { prepareKey } from "./_hmac.js";
import {
  checkDigits,
  checkSecret,
  codeAt,
  type OtpOptions,
  parseCode,
  resolveHash,
  splitCounter,
  valueAt,
} from "./hotp.js";

/** Options of {@link totp}. */
export interface TotpOptions extends OtpOptions {
  /** The time, in milliseconds since the Unix epoch. Default: the system clock. */
  timeMs?: number | undefined;
  /** The time step, in seconds (> 0). Default 30. */
  periodSeconds?: number | undefined;
  /** The Unix time, in seconds, at which step 0 begins. Default 0. */
  t0Seconds?: number | undefined;
}

/** Options of {@link verifyTotp}. */
export interface VerifyTotpOptions extends TotpOptions {
  /**
   * How many steps before and after the current one to accept too: a number for both sides, or
   * `{ past, future }`; integers from 0 to 100. Default 1 (the previous, current and next code).
   */
  window?: number | { past: number; future: number } | undefined;
}

/**
 * The result of {@link verifyTotp}: on success, the step (time counter) that matched and its distance from the
 * current step (`-1` for the previous code, `0` for the current one, `1` for the next one). Store `step` and
 * refuse codes at or below it afterwards, so that a code cannot be replayed (RFC 6238 §5.2).
 */
export type VerifyTotpResult = { valid: true; step: number; delta: number } | { valid: false };

function issue(path: string, message: string): InvalidArgumentError {
  return new InvalidArgumentError(`${path} ${message}`, [{ path, message }]);
}

/** The current step for these options (RFC 6238 §4.2: `T = floor((time - T0) / X)`). */
function currentStep(options: TotpOptions | undefined): number {
  const periodSeconds = options?.periodSeconds ?? 30;
  const t0Seconds = options?.t0Seconds ?? 0;
  const timeMs = options?.timeMs ?? systemClock.now();
  if (typeof periodSeconds !== "number" || !Number.isFinite(periodSeconds) || periodSeconds <= 0) {
    throw issue("periodSeconds", "must be a finite number greater than 0");
  }
  if (typeof t0Seconds !== "number" || !Number.isFinite(t0Seconds)) {
    throw issue("t0Seconds", "must be a finite number");
  }
  if (typeof timeMs !== "number" || !Number.isFinite(timeMs))
    throw issue("timeMs", "must be a finite number");
  const step = Math.floor((timeMs - t0Seconds * 1000) / (periodSeconds * 1000));
  if (step < 0) throw issue("timeMs", "must not be before t0Seconds");
  return step;
}

/**
 * The TOTP code at `timeMs` (RFC 6238 §4).
 *
 * @param secret - the shared secret
 * @param options - `timeMs` (default now), `periodSeconds` (30), `t0Seconds` (0), `digits` (6), `algorithm` (SHA1)
 * @returns the code, `digits` ASCII digits with leading zeros
 * @throws {@link InvalidArgumentError} for an empty secret, a period <= 0, a time before `t0Seconds`, bad digits
 *   or an unknown algorithm
 *
 * @example
 * ```ts
 * const secret = new TextEncoder().encode("12345678901234567890");
 * totp(secret, { timeMs: 59_000, digits: 8 }); // "94287082" (RFC 6238 Appendix B)
 * ```
 */
export function totp(secret: Uint8Array, options?: TotpOptions): string {
  const digits = checkDigits(options?.digits);
  const hash = resolveHash(options?.algorithm);
  const [hi, lo] = splitCounter(currentStep(options), "timeMs");
  return codeAt(hash, prepareKey(hash, checkSecret(secret)), hi, lo, digits);
}

/**
 * Checks a TOTP code against the current step and `window` steps on each side. Every step of the window is
 * computed and compared (no early exit), so the time taken does not depend on whether or where the code
 * matched. A malformed code (not exactly `digits` ASCII digits: signs, spaces, full-width digits, wrong
 * length) is simply `{ valid: false }`; it never throws and never matches.
 *
 * @returns `{ valid: true, step, delta }` or `{ valid: false }`; if two steps of the window share the code,
 *   the one closest to the current step wins (the earlier one on a tie)
 * @throws {@link InvalidArgumentError} for misuse: an empty secret, a bad window, period, digits or algorithm
 *
 * @example
 * ```ts
 * const result = verifyTotp(secret, code, { window: 1 });
 * if (result.valid && result.step > lastAcceptedStep) accept(result.step);
 * ```
 */
export function verifyTotp(secret: Uint8Array, code: string, options?: VerifyTotpOptions): VerifyTotpResult {
  const digits = checkDigits(options?.digits);
  const hash = resolveHash(options?.algorithm);
  const window = options?.window ?? 1;
  const past = typeof window === "number" ? window : window?.past;
  const future = typeof window === "number" ? window : window?.future;
  for (const [path, side] of [
    ["window.past", past],
    ["window.future", future],
  ] as const) {
    if (!Number.isInteger(side) || (side as number) < 0 || (side as number) > 100) {
      throw issue(typeof window === "number" ? "window" : path, "must be an integer from 0 to 100");
    }
  }
  const now = currentStep(options);
  const key = prepareKey(hash, checkSecret(secret));
  const candidate = parseCode(code, digits);
  let best = 0;
  let bestDistance = Number.POSITIVE_INFINITY;
  // `0 - past`, not `-past`: with past = 0 the latter is -0, which would leak into `delta`.
  for (let delta = 0 - (past as number); delta <= (future as number); delta++) {
    const step = now + delta;
    if (step < 0) continue;
    // Constant time per step: the value is always computed; the comparison is one integer equality.
    const matched = valueAt(hash, key, Math.floor(step / 0x100000000), step >>> 0, digits) === candidate;
    const distance = delta < 0 ? -delta : delta;
    if (matched && distance < bestDistance) {
      best = delta;
      bestDistance = distance;
    }
  }
  if (candidate < 0 || bestDistance === Number.POSITIVE_INFINITY) return { valid: false };
  return { valid: true, step: now + best, delta: best };
}
