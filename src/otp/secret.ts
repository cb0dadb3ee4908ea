/**
 * Random OTP secrets.
 *
 * @module
 */
import { InvalidArgumentError } from "../errors.js";
import { type RandomSource, systemRandom } from "../ports/clock.js";

/** Options of {@link generateSecret}. */
export interface GenerateSecretOptions {
  /** Length in bytes, 16 (RFC 4226 §4's minimum of 128 bits) to 128. Default 20 (160 bits, RFC 4226's advice). */
  bytes?: number | undefined;
  /** The source of random bytes. Default: the platform CSPRNG (`crypto.getRandomValues`). */
  random?: RandomSource | undefined;
}

/**
 * A fresh random secret. Encode it with {@link base32Encode} to show it or put it in an `otpauth://` URI.
 *
 * @throws {@link InvalidArgumentError} if `bytes` is out of range or the random source returns something other
 *   than a Uint8Array of the requested length
 *
 * @example
 * ```ts
 * const secret = generateSecret();         // 20 bytes from crypto.getRandomValues
 * const text = base32Encode(secret);       // 32 base32 characters
 * ```
 */
export function generateSecret(options?: GenerateSecretOptions): Uint8Array {
  const bytes = options?.bytes ?? 20;
  if (!Number.isInteger(bytes) || bytes < 16 || bytes > 128) {
    throw new InvalidArgumentError("bytes must be an integer from 16 to 128", [
      { path: "bytes", message: "must be an integer from 16 to 128" },
    ]);
  }
  const random = options?.random ?? systemRandom;
  const secret = random(bytes);
  if (!(secret instanceof Uint8Array) || secret.length !== bytes) {
    throw new InvalidArgumentError("random must return a Uint8Array of the requested length", [
      { path: "random", message: "must return a Uint8Array of the requested length" },
    ]);
  }
  return secret;
}
