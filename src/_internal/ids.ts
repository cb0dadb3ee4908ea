/**
 * Random URL-safe ids and base64url helpers (internal).
 *
 * Ids come from the injected {@link RandomSource} through a small pool, so the hot path does not pay one
 * `crypto.getRandomValues` call per id.
 */
import type { RandomSource } from "../ports/clock.js";

const ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
const DECODE = new Int16Array(128).fill(-1);
for (let i = 0; i < ALPHABET.length; i++) DECODE[ALPHABET.charCodeAt(i)] = i;

/** Base64url without padding. */
export function base64urlEncode(bytes: Uint8Array): string {
  let out = "";
  let i = 0;
  for (; i + 2 < bytes.length; i += 3) {
    const n = (bytes[i]! << 16) | (bytes[i + 1]! << 8) | bytes[i + 2]!;
    out += ALPHABET[n >>> 18]! + ALPHABET[(n >>> 12) & 63]! + ALPHABET[(n >>> 6) & 63]! + ALPHABET[n & 63]!;
  }
  const rest = bytes.length - i;
  if (rest === 1) {
    const n = bytes[i]! << 16;
    out += ALPHABET[n >>> 18]! + ALPHABET[(n >>> 12) & 63]!;
  } else if (rest === 2) {
    const n = (bytes[i]! << 16) | (bytes[i + 1]! << 8);
    out += ALPHABET[n >>> 18]! + ALPHABET[(n >>> 12) & 63]! + ALPHABET[(n >>> 6) & 63]!;
  }
  return out;
}

const utf8 = new TextEncoder();
const textScratch = new Uint8Array(1024);

/**
 * Base64url of a text's UTF-8 bytes. A text that fits is encoded into a shared scratch buffer (zeroed after),
 * so the common short id costs no allocation besides the returned string.
 */
export function base64urlOfText(text: string): string {
  if (text.length * 3 > textScratch.length) return base64urlEncode(utf8.encode(text));
  const written = utf8.encodeInto(text, textScratch).written;
  const bytes = textScratch.subarray(0, written);
  const out = base64urlEncode(bytes);
  bytes.fill(0);
  return out;
}

/**
 * Decodes canonical base64url without padding into `out` (which must have exactly the decoded length).
 * Returns false (leaving `out` partly written) when `text` is not canonical base64url of that length.
 */
export function base64urlDecodeInto(text: string, out: Uint8Array, offset = 0, length = out.length): boolean {
  if (text.length !== Math.ceil((length * 4) / 3)) return false;
  let acc = 0;
  let bits = 0;
  let o = offset;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    const v = c < 128 ? DECODE[c]! : -1;
    if (v < 0) return false;
    acc = ((acc << 6) | v) & 0xffffff;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out[o++] = (acc >>> bits) & 0xff;
    }
  }
  // Canonical: the unused low bits of the last character are zero.
  return (acc & ((1 << bits) - 1)) === 0;
}

/** Decodes canonical base64url; `undefined` when it is not. */
export function base64urlDecode(text: string): Uint8Array | undefined {
  const length = Math.floor((text.length * 3) / 4);
  const out = new Uint8Array(length);
  return base64urlDecodeInto(text, out) ? out : undefined;
}

/**
 * A pool over a {@link RandomSource}: fetches `poolSize` bytes at a time and hands them out. The bytes are
 * used once and then zeroed.
 */
export class RandomPool {
  readonly #random: RandomSource;
  readonly #size: number;
  #buffer: Uint8Array = new Uint8Array(0);
  #offset = 0;

  constructor(random: RandomSource, poolSize = 4096) {
    this.#random = random;
    this.#size = poolSize;
  }

  /** `length` fresh random bytes (a copy). */
  bytes(length: number): Uint8Array {
    const out = new Uint8Array(length);
    let filled = 0;
    while (filled < length) {
      if (this.#offset >= this.#buffer.length) this.#refill(length - filled);
      const take = Math.min(length - filled, this.#buffer.length - this.#offset);
      const chunk = this.#buffer.subarray(this.#offset, this.#offset + take);
      out.set(chunk, filled);
      chunk.fill(0);
      this.#offset += take;
      filled += take;
    }
    return out;
  }

  /**
   * `length` fresh random bytes as base64url, encoded straight from the pool (no copy), then zeroed there.
   * The hot path's ids (several per issue) cost no allocation besides the returned text.
   */
  id(length: number): string {
    if (this.#buffer.length - this.#offset < length) return base64urlEncode(this.bytes(length));
    const start = this.#offset;
    const text = base64urlEncode(this.#buffer.subarray(start, start + length));
    this.#buffer.fill(0, start, start + length);
    this.#offset = start + length;
    return text;
  }

  /** A random unsigned 32-bit integer. */
  uint32(): number {
    if (this.#buffer.length - this.#offset < 4) return new DataView(this.bytes(4).buffer).getUint32(0);
    const b = this.#buffer;
    const o = this.#offset;
    const n = ((b[o]! << 24) | (b[o + 1]! << 16) | (b[o + 2]! << 8) | b[o + 3]!) >>> 0;
    b.fill(0, o, o + 4);
    this.#offset = o + 4;
    return n;
  }

  #refill(atLeast: number): void {
    const want = Math.max(this.#size, atLeast);
    const fresh = this.#random(want);
    if (!(fresh instanceof Uint8Array) || fresh.length !== want) {
      throw new TypeError("the RandomSource returned the wrong number of bytes");
    }
    this.#buffer = fresh;
    this.#offset = 0;
  }
}

/** A random URL-safe id: `bytes` random bytes in base64url (12 bytes → 16 characters). */
export function randomId(pool: RandomPool, bytes = 12): string {
  return pool.id(bytes);
}
