/**
 * Base32 (RFC 4648 §6), the encoding of OTP secrets in `otpauth://` URIs and authenticator apps.
 *
 * @module
 */
import { InvalidArgumentError } from "../errors.js";

const ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

/** Options of {@link base32Encode}. */
export interface Base32EncodeOptions {
  /**
   * Append `=` up to a multiple of 8 characters, as RFC 4648 §6 does. Default `false`: authenticator apps and
   * the Key URI Format use unpadded secrets.
   */
  padding?: boolean | undefined;
}

/**
 * Encodes bytes as upper-case RFC 4648 base32.
 *
 * @example
 * ```ts
 * base32Encode(new TextEncoder().encode("foobar"));                    // "MZXW6YTBOI"
 * base32Encode(new TextEncoder().encode("foobar"), { padding: true }); // "MZXW6YTBOI======"
 * ```
 */
export function base32Encode(bytes: Uint8Array, options?: Base32EncodeOptions): string {
  if (!(bytes instanceof Uint8Array)) {
    throw new InvalidArgumentError("bytes must be a Uint8Array", [
      { path: "bytes", message: "must be a Uint8Array" },
    ]);
  }
  let out = "";
  let buffer = 0;
  let bits = 0;
  for (let i = 0; i < bytes.length; i++) {
    buffer = ((buffer << 8) | bytes[i]!) & 0xfff;
    bits += 8;
    while (bits >= 5) {
      bits -= 5;
      out += ALPHABET[(buffer >>> bits) & 31];
    }
  }
  if (bits > 0) out += ALPHABET[(buffer << (5 - bits)) & 31];
  if (options?.padding) while (out.length % 8 !== 0) out += "=";
  return out;
}

/**
 * Decodes RFC 4648 base32 the way authenticator apps do: case-insensitive, `=` padding optional (only at the
 * end), spaces and hyphens ignored (secrets are often shown in groups), and unpadded lengths that are not a
 * multiple of 8 accepted, the leftover bits (fewer than 8) being dropped.
 *
 * @throws {@link InvalidArgumentError} on any other character (the message gives its position, not the
 *   character, which may be part of a secret)
 *
 * @example
 * ```ts
 * base32Decode("mzxw 6ytb-oi"); // the bytes of "foobar"
 * ```
 */
export function base32Decode(text: string): Uint8Array {
  if (typeof text !== "string") {
    throw new InvalidArgumentError("text must be a string", [{ path: "text", message: "must be a string" }]);
  }
  let end = text.length;
  // Trailing padding (and separators around it) is optional.
  while (end > 0 && (text[end - 1] === "=" || text[end - 1] === " " || text[end - 1] === "-")) end--;
  const out = new Uint8Array(Math.floor((end * 5) / 8));
  let length = 0;
  let buffer = 0;
  let bits = 0;
  for (let i = 0; i < end; i++) {
    const c = text.charCodeAt(i);
    if (c === 32 || c === 45) continue;
    // A–Z and a–z map to 0–25, 2–7 to 26–31.
    const upper = c & ~32;
    const value = upper >= 65 && upper <= 90 ? upper - 65 : c >= 50 && c <= 55 ? c - 24 : -1;
    if (value < 0) {
      const message = `invalid base32 character at position ${i}`;
      throw new InvalidArgumentError(message, [{ path: "text", message }]);
    }
    buffer = ((buffer << 5) | value) & 0xfff;
    bits += 5;
    if (bits >= 8) {
      bits -= 8;
      out[length++] = buffer >>> bits;
    }
  }
  return out.slice(0, length);
}
