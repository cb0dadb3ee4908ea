/**
 * One-time codes (internal): unbiased generation by rejection sampling and the versioned keyed hash kept at
 * rest.
 */
import { hmac, hmacPrepared, prepareKey } from "../otp/_hmac.js";
import { hmacSha256 } from "../otp/_sha256.js";
import { base64urlEncode, type RandomPool } from "./ids.js";

/** The current hash format: `h1:` + base64url(HMAC-SHA256(pepper, utf8(guideId) ‖ 0x00 ‖ utf8(code))). */
export const CODE_HASH_PREFIX = "h1:";

const TWO_POW_32 = 0x1_0000_0000;

/**
 * A `digits`-digit code (leading zeros kept), uniform over 0 … 10^digits − 1.
 * Draws 32 bits (6 digits or fewer: 2^32 covers them) or 48 bits (7–10 digits) and rejects draws at or above
 * the largest multiple of 10^digits, so no value is more likely than another (no modulo bias).
 */
export function generateCode(pool: RandomPool, digits: number): string {
  const modulus = 10 ** digits;
  if (digits <= 9) {
    const limit = TWO_POW_32 - (TWO_POW_32 % modulus);
    for (;;) {
      const n = pool.uint32();
      if (n < limit) return String(n % modulus).padStart(digits, "0");
    }
  }
  const space = 2 ** 48;
  const limit = space - (space % modulus);
  for (;;) {
    const n = pool.uint32() * 0x1_0000 + (pool.uint32() >>> 16);
    if (n < limit) return String(n % modulus).padStart(digits, "0");
  }
}

const MAX_CANDIDATE_LENGTH = 64;

/**
 * Normalizes a presented code: whitespace removed, then it must be exactly `digits` ASCII digits.
 * Returns `undefined` for a malformed code.
 */
export function normalizeCandidate(code: string, digits: number): string | undefined {
  if (code.length > MAX_CANDIDATE_LENGTH) return undefined;
  const compact = code.length === digits ? code : code.replace(/\s+/g, "");
  if (compact.length !== digits) return undefined;
  for (let i = 0; i < compact.length; i++) {
    const c = compact.charCodeAt(i);
    if (c < 48 || c > 57) return undefined;
  }
  return compact;
}

const encoder = new TextEncoder();

/**
 * Computes code hashes under one pepper. The pepper's HMAC inner and outer states are derived once (two
 * SHA-256 compressions) and kept, so a hash costs the message's compressions plus one, on the hand-written
 * SHA-256 core of `health-token/otp`, with no allocation besides the returned text.
 */
export class CodeHasher {
  readonly #key: Int32Array;
  readonly #scratch = new Uint8Array(512);
  readonly #mac = new Uint8Array(32);

  constructor(pepper: Uint8Array) {
    this.#key = prepareKey(hmacSha256, pepper).slice();
  }

  /** `h1:` + base64url(HMAC-SHA256(pepper, utf8(guideId) ‖ 0x00 ‖ utf8(code))). */
  hash(guideId: string, code: string): string {
    let message: Uint8Array;
    if (guideId.length * 3 + code.length * 3 + 1 <= this.#scratch.length) {
      const written = encoder.encodeInto(guideId, this.#scratch).written;
      this.#scratch[written] = 0;
      const codeWritten = encoder.encodeInto(code, this.#scratch.subarray(written + 1)).written;
      message = this.#scratch.subarray(0, written + 1 + codeWritten);
    } else {
      const g = encoder.encode(guideId);
      const c = encoder.encode(code);
      message = new Uint8Array(g.length + 1 + c.length);
      message.set(g);
      message.set(c, g.length + 1);
    }
    hmacPrepared(hmacSha256, this.#key, message, this.#mac);
    message.fill(0);
    const text = CODE_HASH_PREFIX + base64urlEncode(this.#mac);
    this.#mac.fill(0);
    return text;
  }
}

const CODE_KEY_LABEL = encoder.encode("health-token/code-key/v1");

/**
 * Re-creates a token's code from the pepper and the token, so a resend can deliver the same code while only its
 * hash is stored. The code key is HMAC-SHA256(pepper, "health-token/code-key/v1"), apart from the hash key (the
 * pepper itself). The code is drawn, by rejection sampling as in {@link generateCode}, from the blocks
 * HMAC-SHA256(codeKey, utf8(tokenId) ‖ 0x00 ‖ utf8(guideId) ‖ counter as 2 bytes big-endian), counter 0, 1, …,
 * taken 4 bytes at a time (6 for 10 digits; ids never hold NUL): uniform over the 10^digits codes. The token id is 96 random bits from the
 * CSPRNG, so the code is as unpredictable as a drawn one for whoever lacks the pepper.
 */
export class CodeDeriver {
  /** The code key's HMAC inner and outer states, prepared once (the code key itself is not kept). */
  readonly #key: Int32Array;
  readonly #block = new Uint8Array(32);
  readonly #scratch = new Uint8Array(512);

  constructor(pepper: Uint8Array) {
    const codeKey = hmac(hmacSha256, pepper, CODE_KEY_LABEL);
    this.#key = prepareKey(hmacSha256, codeKey).slice();
    codeKey.fill(0);
  }

  /** The `digits`-digit code of a token. */
  code(tokenId: string, guideId: string, digits: number): string {
    const message = this.#message(tokenId, guideId);
    const modulus = 10 ** digits;
    const width = digits <= 9 ? 4 : 6;
    const space = 2 ** (8 * width);
    const limit = space - (space % modulus);
    const block = this.#block;
    try {
      for (let counter = 0; ; counter++) {
        message[message.length - 1] = counter & 0xff;
        message[message.length - 2] = counter >>> 8;
        hmacPrepared(hmacSha256, this.#key, message, block);
        for (let at = 0; at + width <= block.length; at += width) {
          let n = 0;
          for (let i = 0; i < width; i++) n = n * 256 + block[at + i]!;
          if (n < limit) return String(n % modulus).padStart(digits, "0");
        }
      }
    } finally {
      block.fill(0);
      message.fill(0);
    }
  }

  /** utf8(tokenId) ‖ 0x00 ‖ utf8(guideId) ‖ two counter bytes, in the scratch buffer when it fits. */
  #message(tokenId: string, guideId: string): Uint8Array {
    if ((tokenId.length + guideId.length) * 3 + 3 > this.#scratch.length) {
      const t = encoder.encode(tokenId);
      const g = encoder.encode(guideId);
      const message = new Uint8Array(t.length + g.length + 3);
      message.set(t);
      message.set(g, t.length + 1);
      return message;
    }
    const scratch = this.#scratch;
    const t = encoder.encodeInto(tokenId, scratch).written;
    scratch[t] = 0;
    const g = encoder.encodeInto(guideId, scratch.subarray(t + 1)).written;
    scratch[t + 1 + g] = 0;
    scratch[t + 2 + g] = 0;
    return scratch.subarray(0, t + g + 3);
  }
}
