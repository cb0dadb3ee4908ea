/**
 * The HMAC machinery shared by the hand-written SHA-1, SHA-256 and SHA-512 cores.
 *
 * Every hash here is a Merkle–Damgård hash over big-endian 32-bit words (SHA-512's 64-bit words are kept as
 * pairs of 32-bit halves, high first, which is the same byte order). A core supplies its block size, its state
 * size, its initial value, its message-schedule array and its compression function; this module does the rest.
 *
 * The OTP fast path: an HMAC over an 8-byte counter is exactly two compressions once the key's inner and outer
 * padded states are known (`(K ^ ipad)` and `(K ^ opad)` compressed once each). {@link prepareKey} derives
 * both states once per call into the core's scratch array; {@link otpValue} then costs two compressions and
 * allocates nothing. Everything is synchronous and single-threaded, so module-level scratch arrays are safe.
 *
 * @module
 */
/** The hash algorithms of RFC 4226 / RFC 6238: `"SHA1"` (the default everywhere), `"SHA256"`, `"SHA512"`. */
export type Algorithm = "SHA1" | "SHA256" | "SHA512";

/**
 * One hand-written HMAC hash core ({@link hmacSha1}, {@link hmacSha256}, {@link hmacSha512}). Pass it as the
 * `algorithm` option, or import it so that a bundler keeps it: cores that are never imported are removed by
 * tree-shaking, so a SHA-1-only bundle carries no SHA-256 or SHA-512 code.
 */
export interface OtpHash {
  /** The algorithm name, as written in `otpauth://` URIs. */
  readonly algorithm: Algorithm;
  /** @internal Block size in 32-bit words (16 or 32). */
  readonly b: number;
  /** @internal State (and digest) size in 32-bit words (5, 8 or 16). */
  readonly n: number;
  /** @internal Size of the trailing length field in bytes (8 or 16). */
  readonly l: number;
  /** @internal Initial value, `n` words. */
  readonly iv: Int32Array;
  /** @internal The message schedule; its first `b` words are the block being compressed. */
  readonly w: Int32Array;
  /** @internal Compresses the block in `w` into `s[o..o+n)`. */
  readonly c: (s: Int32Array, o: number) => void;
  /** @internal Scratch: inner state at `[0, n)`, outer state at `[n, 2n)`. */
  readonly k: Int32Array;
  /** @internal Scratch: one working state. */
  readonly t: Int32Array;
  /** @internal Scratch: the zero-padded key block, `4b` bytes. */
  readonly p: Uint8Array;
}

const registry: { [A in Algorithm]?: OtpHash } = {};

/**
 * Records a core under its algorithm name so that the string form (`algorithm: "SHA256"`) finds it, and
 * returns it. Called from a `@__PURE__` initializer: if nothing imports the core, the bundler drops the call.
 */
export function defineHash(hash: OtpHash): OtpHash {
  registry[hash.algorithm] = hash;
  return hash;
}

/** The core registered under `algorithm`, if its module was loaded. */
export function registeredHash(algorithm: Algorithm): OtpHash | undefined {
  return registry[algorithm];
}

/** Loads `h.b` big-endian words from `bytes[offset..]` into the message schedule. */
function load(h: OtpHash, bytes: Uint8Array, offset: number): void {
  const w = h.w;
  for (let i = 0; i < h.b; i++) {
    const j = offset + 4 * i;
    w[i] = (bytes[j]! << 24) | (bytes[j + 1]! << 16) | (bytes[j + 2]! << 8) | bytes[j + 3]!;
  }
}

/** Scratch for the padded last block(s) of a message: two blocks of the largest core, zero between uses. */
const tail = /* @__PURE__ */ new Uint8Array(256);

/** Writes the first `n` words of `s` big-endian into `out[0 .. 4n)`. */
function writeWords(s: Int32Array, n: number, out: Uint8Array): void {
  for (let i = 0; i < n; i++) {
    const x = s[i]!;
    out[4 * i] = x >>> 24;
    out[4 * i + 1] = x >>> 16;
    out[4 * i + 2] = x >>> 8;
    out[4 * i + 3] = x;
  }
}

/**
 * Absorbs `message` and its padding into the chaining value `s` (modified in place), as if `prefixBytes` bytes
 * had already been absorbed. Allocates nothing; the padded tail is wiped afterwards, so no message bytes linger
 * in module scratch.
 */
function absorb(h: OtpHash, s: Int32Array, prefixBytes: number, message: Uint8Array): void {
  const blockBytes = 4 * h.b;
  const length = message.length;
  const full = length - (length % blockBytes);
  for (let off = 0; off < full; off += blockBytes) {
    load(h, message, off);
    h.c(s, 0);
  }
  const rest = length - full;
  for (let i = 0; i < rest; i++) tail[i] = message[full + i]!;
  tail[rest] = 0x80;
  const total = rest + 1 + h.l <= blockBytes ? blockBytes : 2 * blockBytes;
  const bits = (prefixBytes + length) * 8;
  const hi = Math.floor(bits / 0x100000000);
  for (let i = 0; i < 4; i++) {
    tail[total - 8 + i] = hi >>> (24 - 8 * i);
    tail[total - 4 + i] = bits >>> (24 - 8 * i);
  }
  for (let off = 0; off < total; off += blockBytes) {
    load(h, tail, off);
    h.c(s, 0);
  }
  tail.fill(0, 0, total);
}

/** Hashes `message` from the chaining value `s` (modified), after `prefixBytes` bytes; returns the digest. */
function finish(h: OtpHash, s: Int32Array, prefixBytes: number, message: Uint8Array): Uint8Array {
  absorb(h, s, prefixBytes, message);
  const out = new Uint8Array(4 * h.n);
  writeWords(s, h.n, out);
  return out;
}

/** The plain hash of `message` (used for keys longer than a block, and by the tests). */
export function digest(h: OtpHash, message: Uint8Array): Uint8Array {
  return finish(h, h.iv.slice(), 0, message);
}

/**
 * Derives the HMAC inner and outer chaining values of `key` into `h.k` and returns it. The array is the core's
 * scratch: valid until the next call of this function with the same core.
 */
export function prepareKey(h: OtpHash, key: Uint8Array): Int32Array {
  const p = h.p;
  const w = h.w;
  const b = h.b;
  const n = h.n;
  const k = h.k;
  p.fill(0);
  p.set(key.length > p.length ? digest(h, key) : key);
  load(h, p, 0);
  for (let i = 0; i < b; i++) w[i] = w[i]! ^ 0x36363636;
  k.set(h.iv);
  h.c(k, 0);
  // The compression leaves the block words w[0..b) as they were: turn K ^ ipad into K ^ opad in place.
  for (let i = 0; i < b; i++) w[i] = w[i]! ^ 0x6a6a6a6a;
  k.set(h.iv, n);
  h.c(k, n);
  return k;
}

/** The full HMAC of `message` under `key` (a reference path, used by the tests). */
export function hmac(h: OtpHash, key: Uint8Array, message: Uint8Array): Uint8Array {
  const k = prepareKey(h, key).slice();
  const blockBytes = 4 * h.b;
  const inner = finish(h, k.slice(0, h.n), blockBytes, message);
  return finish(h, k.slice(h.n), blockBytes, inner);
}

/**
 * HMAC of the 8-byte big-endian counter `hi:lo` under the prepared key state `key`, followed by RFC 4226's
 * dynamic truncation (§5.3): a 31-bit integer. Two compressions, no allocation.
 */
export function otpValue(h: OtpHash, key: Int32Array, hi: number, lo: number): number {
  const w = h.w;
  const t = h.t;
  const n = h.n;
  const b = h.b;
  const blockBits = 32 * b;
  // Inner hash: one block holding the counter, the 0x80 terminator and the bit length.
  w[0] = hi;
  w[1] = lo;
  w[2] = 0x80000000;
  for (let i = 3; i < b - 1; i++) w[i] = 0;
  w[b - 1] = blockBits + 64;
  for (let i = 0; i < n; i++) t[i] = key[i]!;
  h.c(t, 0);
  // Outer hash: one block holding the inner digest.
  for (let i = 0; i < n; i++) w[i] = t[i]!;
  w[n] = 0x80000000;
  for (let i = n + 1; i < b - 1; i++) w[i] = 0;
  w[b - 1] = blockBits + 32 * n;
  for (let i = 0; i < n; i++) t[i] = key[n + i]!;
  h.c(t, 0);
  // Dynamic truncation: the low nibble of the last byte is a byte offset into the digest.
  const offset = t[n - 1]! & 0xf;
  const word = offset >>> 2;
  const shift = 8 * (offset & 3);
  const value = shift === 0 ? t[word]! : (t[word]! << shift) | (t[word + 1]! >>> (32 - shift));
  return value & 0x7fffffff;
}

/**
 * HMAC of `message` (any length) under a prepared key state (a copy of {@link prepareKey}'s result: inner
 * state at `[0, n)`, outer at `[n, 2n)`), written big-endian into `out[0 .. 4n)`. Costs the message's blocks
 * plus one outer compression and allocates nothing.
 */
export function hmacPrepared(h: OtpHash, key: Int32Array, message: Uint8Array, out: Uint8Array): void {
  const w = h.w;
  const t = h.t;
  const n = h.n;
  const b = h.b;
  // Inner hash, continued after the (K ^ ipad) block.
  for (let i = 0; i < n; i++) t[i] = key[i]!;
  absorb(h, t, 4 * b, message);
  // Outer hash: one block holding the inner digest (4n bytes always fit with the padding).
  for (let i = 0; i < n; i++) w[i] = t[i]!;
  w[n] = 0x80000000;
  for (let i = n + 1; i < b - 1; i++) w[i] = 0;
  w[b - 1] = 32 * b + 32 * n;
  for (let i = 0; i < n; i++) t[i] = key[n + i]!;
  h.c(t, 0);
  writeWords(t, n, out);
  w.fill(0, 0, b);
}
