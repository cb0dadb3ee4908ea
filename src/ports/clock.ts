/**
 * Time and randomness, injected. The core never calls `Date.now()` or `Math.random()`: it asks a
 * {@link Clock} and a {@link RandomSource}, so tests can pin both.
 *
 * @module
 */
import { InvalidArgumentError } from "../errors.js";

/**
 * A source of the current time.
 *
 * @example
 * ```ts
 * const clock: Clock = { now: () => Date.now() }; // what systemClock is; tests pass a FakeClock
 * const tokens = createTokenService({ store, notifier, pepper, clock });
 * ```
 */
export interface Clock {
  /** Milliseconds since the Unix epoch. */
  now(): number;
}

/**
 * A source of cryptographically secure random bytes: returns `length` fresh bytes.
 * The default is {@link systemRandom}, backed by `crypto.getRandomValues`.
 */
export type RandomSource = (length: number) => Uint8Array;

/** The system clock (`Date.now()`). */
export const systemClock: Clock = { now: () => Date.now() };

/**
 * The platform CSPRNG (`crypto.getRandomValues`, in chunks of at most 65,536 bytes).
 *
 * @example
 * ```ts
 * const bytes = systemRandom(32); // 32 fresh bytes from crypto.getRandomValues
 * ```
 */
export const systemRandom: RandomSource = (length) => {
  if (!Number.isSafeInteger(length) || length < 0 || length > 1 << 24) {
    throw new InvalidArgumentError("length must be an integer from 0 to 16777216", [
      { path: "length", message: "expected an integer from 0 to 16777216" },
    ]);
  }
  const out = new Uint8Array(length);
  for (let offset = 0; offset < length; offset += 65_536) {
    globalThis.crypto.getRandomValues(out.subarray(offset, Math.min(length, offset + 65_536)));
  }
  return out;
};
