/**
 * SHA-256 (FIPS 180-4 §6.2) compression on an `Int32Array`, for HMAC-SHA-256 one-time passwords.
 *
 * @module
 */
import { defineHash, type OtpHash } from "./_hmac.js";

// FIPS 180-4 §4.2.2: the first 32 bits of the fractional parts of the cube roots of the first 64 primes.
const K = /* @__PURE__ */ new Int32Array([
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5, 0xd807aa98,
  0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786,
  0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da, 0x983e5152, 0xa831c66d, 0xb00327c8,
  0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13,
  0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819,
  0xd6990624, 0xf40e3585, 0x106aa070, 0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a,
  0x5b9cca4f, 0x682e6ff3, 0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7,
  0xc67178f2,
]);

const W = /* @__PURE__ */ new Int32Array(64);

function compress(s: Int32Array, o: number): void {
  const w = W;
  for (let i = 16; i < 64; i++) {
    const x = w[i - 15]!;
    const y = w[i - 2]!;
    const s0 = ((x >>> 7) | (x << 25)) ^ ((x >>> 18) | (x << 14)) ^ (x >>> 3);
    const s1 = ((y >>> 17) | (y << 15)) ^ ((y >>> 19) | (y << 13)) ^ (y >>> 10);
    w[i] = (w[i - 16]! + s0 + w[i - 7]! + s1) | 0;
  }
  let a = s[o]!;
  let b = s[o + 1]!;
  let c = s[o + 2]!;
  let d = s[o + 3]!;
  let e = s[o + 4]!;
  let f = s[o + 5]!;
  let g = s[o + 6]!;
  let h = s[o + 7]!;
  for (let i = 0; i < 64; i++) {
    const S1 = ((e >>> 6) | (e << 26)) ^ ((e >>> 11) | (e << 21)) ^ ((e >>> 25) | (e << 7));
    const t1 = (h + S1 + ((e & f) ^ (~e & g)) + K[i]! + w[i]!) | 0;
    const S0 = ((a >>> 2) | (a << 30)) ^ ((a >>> 13) | (a << 19)) ^ ((a >>> 22) | (a << 10));
    const t2 = (S0 + ((a & b) ^ (a & c) ^ (b & c))) | 0;
    h = g;
    g = f;
    f = e;
    e = (d + t1) | 0;
    d = c;
    c = b;
    b = a;
    a = (t1 + t2) | 0;
  }
  s[o] = (s[o]! + a) | 0;
  s[o + 1] = (s[o + 1]! + b) | 0;
  s[o + 2] = (s[o + 2]! + c) | 0;
  s[o + 3] = (s[o + 3]! + d) | 0;
  s[o + 4] = (s[o + 4]! + e) | 0;
  s[o + 5] = (s[o + 5]! + f) | 0;
  s[o + 6] = (s[o + 6]! + g) | 0;
  s[o + 7] = (s[o + 7]! + h) | 0;
}

/**
 * The hand-written HMAC-SHA-256 core. Import it (or pass it as `algorithm`) to use `"SHA256"` in a
 * tree-shaken bundle; bundles that never import it carry no SHA-256 code.
 *
 * @example
 * ```ts
 * import { totp, hmacSha256 } from "health-token/otp";
 * totp(secret, { algorithm: hmacSha256 }); // same as { algorithm: "SHA256" }
 * ```
 */
export const hmacSha256: OtpHash = /* @__PURE__ */ defineHash({
  algorithm: "SHA256",
  b: 16,
  n: 8,
  l: 8,
  iv: /* @__PURE__ */ new Int32Array([
    0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19,
  ]),
  w: W,
  c: compress,
  k: /* @__PURE__ */ new Int32Array(16),
  t: /* @__PURE__ */ new Int32Array(8),
  p: /* @__PURE__ */ new Uint8Array(64),
});
