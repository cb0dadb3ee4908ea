/**
 * SHA-1 (FIPS 180-4 §6.1) compression on an `Int32Array`, for HMAC-SHA-1 one-time passwords.
 *
 * SHA-1 is broken for collisions but not as an HMAC key-derivation primitive: HMAC-SHA-1 remains the default of
 * RFC 4226 and RFC 6238 and of every authenticator app.
 *
 * @module
 */
import { defineHash, type OtpHash } from "./_hmac.js";

// The block being compressed (16 words). The compression reads it and never writes it.
const W = /* @__PURE__ */ new Int32Array(16);

/**
 * Fully unrolled: the 16-word message schedule lives in locals (w0–w15, updated in place as a ring, FIPS 180-4
 * §6.1.3's alternate method) and the five working variables rotate names every round instead of being moved,
 * so round t computes `e = ROTL5(a) + f(b, c, d) + e + K + W[t]; b = ROTL30(b)` with (a, b, c, d, e) renamed.
 * Twice as fast as the rolled loop on V8.
 */
function compress(s: Int32Array, o: number): void {
  const w = W;
  let w0 = w[0]!;
  let w1 = w[1]!;
  let w2 = w[2]!;
  let w3 = w[3]!;
  let w4 = w[4]!;
  let w5 = w[5]!;
  let w6 = w[6]!;
  let w7 = w[7]!;
  let w8 = w[8]!;
  let w9 = w[9]!;
  let w10 = w[10]!;
  let w11 = w[11]!;
  let w12 = w[12]!;
  let w13 = w[13]!;
  let w14 = w[14]!;
  let w15 = w[15]!;
  let a = s[o]!;
  let b = s[o + 1]!;
  let c = s[o + 2]!;
  let d = s[o + 3]!;
  let e = s[o + 4]!;
  let x: number;
  // Rounds 0–19.
  e = (((a << 5) | (a >>> 27)) + ((b & c) | (~b & d)) + e + 0x5a827999 + w0) | 0;
  b = (b << 30) | (b >>> 2);
  d = (((e << 5) | (e >>> 27)) + ((a & b) | (~a & c)) + d + 0x5a827999 + w1) | 0;
  a = (a << 30) | (a >>> 2);
  c = (((d << 5) | (d >>> 27)) + ((e & a) | (~e & b)) + c + 0x5a827999 + w2) | 0;
  e = (e << 30) | (e >>> 2);
  b = (((c << 5) | (c >>> 27)) + ((d & e) | (~d & a)) + b + 0x5a827999 + w3) | 0;
  d = (d << 30) | (d >>> 2);
  a = (((b << 5) | (b >>> 27)) + ((c & d) | (~c & e)) + a + 0x5a827999 + w4) | 0;
  c = (c << 30) | (c >>> 2);
  e = (((a << 5) | (a >>> 27)) + ((b & c) | (~b & d)) + e + 0x5a827999 + w5) | 0;
  b = (b << 30) | (b >>> 2);
  d = (((e << 5) | (e >>> 27)) + ((a & b) | (~a & c)) + d + 0x5a827999 + w6) | 0;
  a = (a << 30) | (a >>> 2);
  c = (((d << 5) | (d >>> 27)) + ((e & a) | (~e & b)) + c + 0x5a827999 + w7) | 0;
  e = (e << 30) | (e >>> 2);
  b = (((c << 5) | (c >>> 27)) + ((d & e) | (~d & a)) + b + 0x5a827999 + w8) | 0;
  d = (d << 30) | (d >>> 2);
  a = (((b << 5) | (b >>> 27)) + ((c & d) | (~c & e)) + a + 0x5a827999 + w9) | 0;
  c = (c << 30) | (c >>> 2);
  e = (((a << 5) | (a >>> 27)) + ((b & c) | (~b & d)) + e + 0x5a827999 + w10) | 0;
  b = (b << 30) | (b >>> 2);
  d = (((e << 5) | (e >>> 27)) + ((a & b) | (~a & c)) + d + 0x5a827999 + w11) | 0;
  a = (a << 30) | (a >>> 2);
  c = (((d << 5) | (d >>> 27)) + ((e & a) | (~e & b)) + c + 0x5a827999 + w12) | 0;
  e = (e << 30) | (e >>> 2);
  b = (((c << 5) | (c >>> 27)) + ((d & e) | (~d & a)) + b + 0x5a827999 + w13) | 0;
  d = (d << 30) | (d >>> 2);
  a = (((b << 5) | (b >>> 27)) + ((c & d) | (~c & e)) + a + 0x5a827999 + w14) | 0;
  c = (c << 30) | (c >>> 2);
  e = (((a << 5) | (a >>> 27)) + ((b & c) | (~b & d)) + e + 0x5a827999 + w15) | 0;
  b = (b << 30) | (b >>> 2);
  x = w13 ^ w8 ^ w2 ^ w0;
  w0 = (x << 1) | (x >>> 31);
  d = (((e << 5) | (e >>> 27)) + ((a & b) | (~a & c)) + d + 0x5a827999 + w0) | 0;
  a = (a << 30) | (a >>> 2);
  x = w14 ^ w9 ^ w3 ^ w1;
  w1 = (x << 1) | (x >>> 31);
  c = (((d << 5) | (d >>> 27)) + ((e & a) | (~e & b)) + c + 0x5a827999 + w1) | 0;
  e = (e << 30) | (e >>> 2);
  x = w15 ^ w10 ^ w4 ^ w2;
  w2 = (x << 1) | (x >>> 31);
  b = (((c << 5) | (c >>> 27)) + ((d & e) | (~d & a)) + b + 0x5a827999 + w2) | 0;
  d = (d << 30) | (d >>> 2);
  x = w0 ^ w11 ^ w5 ^ w3;
  w3 = (x << 1) | (x >>> 31);
  a = (((b << 5) | (b >>> 27)) + ((c & d) | (~c & e)) + a + 0x5a827999 + w3) | 0;
  c = (c << 30) | (c >>> 2);
  // Rounds 20–39.
  x = w1 ^ w12 ^ w6 ^ w4;
  w4 = (x << 1) | (x >>> 31);
  e = (((a << 5) | (a >>> 27)) + (b ^ c ^ d) + e + 0x6ed9eba1 + w4) | 0;
  b = (b << 30) | (b >>> 2);
  x = w2 ^ w13 ^ w7 ^ w5;
  w5 = (x << 1) | (x >>> 31);
  d = (((e << 5) | (e >>> 27)) + (a ^ b ^ c) + d + 0x6ed9eba1 + w5) | 0;
  a = (a << 30) | (a >>> 2);
  x = w3 ^ w14 ^ w8 ^ w6;
  w6 = (x << 1) | (x >>> 31);
  c = (((d << 5) | (d >>> 27)) + (e ^ a ^ b) + c + 0x6ed9eba1 + w6) | 0;
  e = (e << 30) | (e >>> 2);
  x = w4 ^ w15 ^ w9 ^ w7;
  w7 = (x << 1) | (x >>> 31);
  b = (((c << 5) | (c >>> 27)) + (d ^ e ^ a) + b + 0x6ed9eba1 + w7) | 0;
  d = (d << 30) | (d >>> 2);
  x = w5 ^ w0 ^ w10 ^ w8;
  w8 = (x << 1) | (x >>> 31);
  a = (((b << 5) | (b >>> 27)) + (c ^ d ^ e) + a + 0x6ed9eba1 + w8) | 0;
  c = (c << 30) | (c >>> 2);
  x = w6 ^ w1 ^ w11 ^ w9;
  w9 = (x << 1) | (x >>> 31);
  e = (((a << 5) | (a >>> 27)) + (b ^ c ^ d) + e + 0x6ed9eba1 + w9) | 0;
  b = (b << 30) | (b >>> 2);
  x = w7 ^ w2 ^ w12 ^ w10;
  w10 = (x << 1) | (x >>> 31);
  d = (((e << 5) | (e >>> 27)) + (a ^ b ^ c) + d + 0x6ed9eba1 + w10) | 0;
  a = (a << 30) | (a >>> 2);
  x = w8 ^ w3 ^ w13 ^ w11;
  w11 = (x << 1) | (x >>> 31);
  c = (((d << 5) | (d >>> 27)) + (e ^ a ^ b) + c + 0x6ed9eba1 + w11) | 0;
  e = (e << 30) | (e >>> 2);
  x = w9 ^ w4 ^ w14 ^ w12;
  w12 = (x << 1) | (x >>> 31);
  b = (((c << 5) | (c >>> 27)) + (d ^ e ^ a) + b + 0x6ed9eba1 + w12) | 0;
  d = (d << 30) | (d >>> 2);
  x = w10 ^ w5 ^ w15 ^ w13;
  w13 = (x << 1) | (x >>> 31);
  a = (((b << 5) | (b >>> 27)) + (c ^ d ^ e) + a + 0x6ed9eba1 + w13) | 0;
  c = (c << 30) | (c >>> 2);
  x = w11 ^ w6 ^ w0 ^ w14;
  w14 = (x << 1) | (x >>> 31);
  e = (((a << 5) | (a >>> 27)) + (b ^ c ^ d) + e + 0x6ed9eba1 + w14) | 0;
  b = (b << 30) | (b >>> 2);
  x = w12 ^ w7 ^ w1 ^ w15;
  w15 = (x << 1) | (x >>> 31);
  d = (((e << 5) | (e >>> 27)) + (a ^ b ^ c) + d + 0x6ed9eba1 + w15) | 0;
  a = (a << 30) | (a >>> 2);
  x = w13 ^ w8 ^ w2 ^ w0;
  w0 = (x << 1) | (x >>> 31);
  c = (((d << 5) | (d >>> 27)) + (e ^ a ^ b) + c + 0x6ed9eba1 + w0) | 0;
  e = (e << 30) | (e >>> 2);
  x = w14 ^ w9 ^ w3 ^ w1;
  w1 = (x << 1) | (x >>> 31);
  b = (((c << 5) | (c >>> 27)) + (d ^ e ^ a) + b + 0x6ed9eba1 + w1) | 0;
  d = (d << 30) | (d >>> 2);
  x = w15 ^ w10 ^ w4 ^ w2;
  w2 = (x << 1) | (x >>> 31);
  a = (((b << 5) | (b >>> 27)) + (c ^ d ^ e) + a + 0x6ed9eba1 + w2) | 0;
  c = (c << 30) | (c >>> 2);
  x = w0 ^ w11 ^ w5 ^ w3;
  w3 = (x << 1) | (x >>> 31);
  e = (((a << 5) | (a >>> 27)) + (b ^ c ^ d) + e + 0x6ed9eba1 + w3) | 0;
  b = (b << 30) | (b >>> 2);
  x = w1 ^ w12 ^ w6 ^ w4;
  w4 = (x << 1) | (x >>> 31);
  d = (((e << 5) | (e >>> 27)) + (a ^ b ^ c) + d + 0x6ed9eba1 + w4) | 0;
  a = (a << 30) | (a >>> 2);
  x = w2 ^ w13 ^ w7 ^ w5;
  w5 = (x << 1) | (x >>> 31);
  c = (((d << 5) | (d >>> 27)) + (e ^ a ^ b) + c + 0x6ed9eba1 + w5) | 0;
  e = (e << 30) | (e >>> 2);
  x = w3 ^ w14 ^ w8 ^ w6;
  w6 = (x << 1) | (x >>> 31);
  b = (((c << 5) | (c >>> 27)) + (d ^ e ^ a) + b + 0x6ed9eba1 + w6) | 0;
  d = (d << 30) | (d >>> 2);
  x = w4 ^ w15 ^ w9 ^ w7;
  w7 = (x << 1) | (x >>> 31);
  a = (((b << 5) | (b >>> 27)) + (c ^ d ^ e) + a + 0x6ed9eba1 + w7) | 0;
  c = (c << 30) | (c >>> 2);
  // Rounds 40–59.
  x = w5 ^ w0 ^ w10 ^ w8;
  w8 = (x << 1) | (x >>> 31);
  e = (((a << 5) | (a >>> 27)) + ((b & c) | (d & (b | c))) + e + 0x8f1bbcdc + w8) | 0;
  b = (b << 30) | (b >>> 2);
  x = w6 ^ w1 ^ w11 ^ w9;
  w9 = (x << 1) | (x >>> 31);
  d = (((e << 5) | (e >>> 27)) + ((a & b) | (c & (a | b))) + d + 0x8f1bbcdc + w9) | 0;
  a = (a << 30) | (a >>> 2);
  x = w7 ^ w2 ^ w12 ^ w10;
  w10 = (x << 1) | (x >>> 31);
  c = (((d << 5) | (d >>> 27)) + ((e & a) | (b & (e | a))) + c + 0x8f1bbcdc + w10) | 0;
  e = (e << 30) | (e >>> 2);
  x = w8 ^ w3 ^ w13 ^ w11;
  w11 = (x << 1) | (x >>> 31);
  b = (((c << 5) | (c >>> 27)) + ((d & e) | (a & (d | e))) + b + 0x8f1bbcdc + w11) | 0;
  d = (d << 30) | (d >>> 2);
  x = w9 ^ w4 ^ w14 ^ w12;
  w12 = (x << 1) | (x >>> 31);
  a = (((b << 5) | (b >>> 27)) + ((c & d) | (e & (c | d))) + a + 0x8f1bbcdc + w12) | 0;
  c = (c << 30) | (c >>> 2);
  x = w10 ^ w5 ^ w15 ^ w13;
  w13 = (x << 1) | (x >>> 31);
  e = (((a << 5) | (a >>> 27)) + ((b & c) | (d & (b | c))) + e + 0x8f1bbcdc + w13) | 0;
  b = (b << 30) | (b >>> 2);
  x = w11 ^ w6 ^ w0 ^ w14;
  w14 = (x << 1) | (x >>> 31);
  d = (((e << 5) | (e >>> 27)) + ((a & b) | (c & (a | b))) + d + 0x8f1bbcdc + w14) | 0;
  a = (a << 30) | (a >>> 2);
  x = w12 ^ w7 ^ w1 ^ w15;
  w15 = (x << 1) | (x >>> 31);
  c = (((d << 5) | (d >>> 27)) + ((e & a) | (b & (e | a))) + c + 0x8f1bbcdc + w15) | 0;
  e = (e << 30) | (e >>> 2);
  x = w13 ^ w8 ^ w2 ^ w0;
  w0 = (x << 1) | (x >>> 31);
  b = (((c << 5) | (c >>> 27)) + ((d & e) | (a & (d | e))) + b + 0x8f1bbcdc + w0) | 0;
  d = (d << 30) | (d >>> 2);
  x = w14 ^ w9 ^ w3 ^ w1;
  w1 = (x << 1) | (x >>> 31);
  a = (((b << 5) | (b >>> 27)) + ((c & d) | (e & (c | d))) + a + 0x8f1bbcdc + w1) | 0;
  c = (c << 30) | (c >>> 2);
  x = w15 ^ w10 ^ w4 ^ w2;
  w2 = (x << 1) | (x >>> 31);
  e = (((a << 5) | (a >>> 27)) + ((b & c) | (d & (b | c))) + e + 0x8f1bbcdc + w2) | 0;
  b = (b << 30) | (b >>> 2);
  x = w0 ^ w11 ^ w5 ^ w3;
  w3 = (x << 1) | (x >>> 31);
  d = (((e << 5) | (e >>> 27)) + ((a & b) | (c & (a | b))) + d + 0x8f1bbcdc + w3) | 0;
  a = (a << 30) | (a >>> 2);
  x = w1 ^ w12 ^ w6 ^ w4;
  w4 = (x << 1) | (x >>> 31);
  c = (((d << 5) | (d >>> 27)) + ((e & a) | (b & (e | a))) + c + 0x8f1bbcdc + w4) | 0;
  e = (e << 30) | (e >>> 2);
  x = w2 ^ w13 ^ w7 ^ w5;
  w5 = (x << 1) | (x >>> 31);
  b = (((c << 5) | (c >>> 27)) + ((d & e) | (a & (d | e))) + b + 0x8f1bbcdc + w5) | 0;
  d = (d << 30) | (d >>> 2);
  x = w3 ^ w14 ^ w8 ^ w6;
  w6 = (x << 1) | (x >>> 31);
  a = (((b << 5) | (b >>> 27)) + ((c & d) | (e & (c | d))) + a + 0x8f1bbcdc + w6) | 0;
  c = (c << 30) | (c >>> 2);
  x = w4 ^ w15 ^ w9 ^ w7;
  w7 = (x << 1) | (x >>> 31);
  e = (((a << 5) | (a >>> 27)) + ((b & c) | (d & (b | c))) + e + 0x8f1bbcdc + w7) | 0;
  b = (b << 30) | (b >>> 2);
  x = w5 ^ w0 ^ w10 ^ w8;
  w8 = (x << 1) | (x >>> 31);
  d = (((e << 5) | (e >>> 27)) + ((a & b) | (c & (a | b))) + d + 0x8f1bbcdc + w8) | 0;
  a = (a << 30) | (a >>> 2);
  x = w6 ^ w1 ^ w11 ^ w9;
  w9 = (x << 1) | (x >>> 31);
  c = (((d << 5) | (d >>> 27)) + ((e & a) | (b & (e | a))) + c + 0x8f1bbcdc + w9) | 0;
  e = (e << 30) | (e >>> 2);
  x = w7 ^ w2 ^ w12 ^ w10;
  w10 = (x << 1) | (x >>> 31);
  b = (((c << 5) | (c >>> 27)) + ((d & e) | (a & (d | e))) + b + 0x8f1bbcdc + w10) | 0;
  d = (d << 30) | (d >>> 2);
  x = w8 ^ w3 ^ w13 ^ w11;
  w11 = (x << 1) | (x >>> 31);
  a = (((b << 5) | (b >>> 27)) + ((c & d) | (e & (c | d))) + a + 0x8f1bbcdc + w11) | 0;
  c = (c << 30) | (c >>> 2);
  // Rounds 60–79.
  x = w9 ^ w4 ^ w14 ^ w12;
  w12 = (x << 1) | (x >>> 31);
  e = (((a << 5) | (a >>> 27)) + (b ^ c ^ d) + e + 0xca62c1d6 + w12) | 0;
  b = (b << 30) | (b >>> 2);
  x = w10 ^ w5 ^ w15 ^ w13;
  w13 = (x << 1) | (x >>> 31);
  d = (((e << 5) | (e >>> 27)) + (a ^ b ^ c) + d + 0xca62c1d6 + w13) | 0;
  a = (a << 30) | (a >>> 2);
  x = w11 ^ w6 ^ w0 ^ w14;
  w14 = (x << 1) | (x >>> 31);
  c = (((d << 5) | (d >>> 27)) + (e ^ a ^ b) + c + 0xca62c1d6 + w14) | 0;
  e = (e << 30) | (e >>> 2);
  x = w12 ^ w7 ^ w1 ^ w15;
  w15 = (x << 1) | (x >>> 31);
  b = (((c << 5) | (c >>> 27)) + (d ^ e ^ a) + b + 0xca62c1d6 + w15) | 0;
  d = (d << 30) | (d >>> 2);
  x = w13 ^ w8 ^ w2 ^ w0;
  w0 = (x << 1) | (x >>> 31);
  a = (((b << 5) | (b >>> 27)) + (c ^ d ^ e) + a + 0xca62c1d6 + w0) | 0;
  c = (c << 30) | (c >>> 2);
  x = w14 ^ w9 ^ w3 ^ w1;
  w1 = (x << 1) | (x >>> 31);
  e = (((a << 5) | (a >>> 27)) + (b ^ c ^ d) + e + 0xca62c1d6 + w1) | 0;
  b = (b << 30) | (b >>> 2);
  x = w15 ^ w10 ^ w4 ^ w2;
  w2 = (x << 1) | (x >>> 31);
  d = (((e << 5) | (e >>> 27)) + (a ^ b ^ c) + d + 0xca62c1d6 + w2) | 0;
  a = (a << 30) | (a >>> 2);
  x = w0 ^ w11 ^ w5 ^ w3;
  w3 = (x << 1) | (x >>> 31);
  c = (((d << 5) | (d >>> 27)) + (e ^ a ^ b) + c + 0xca62c1d6 + w3) | 0;
  e = (e << 30) | (e >>> 2);
  x = w1 ^ w12 ^ w6 ^ w4;
  w4 = (x << 1) | (x >>> 31);
  b = (((c << 5) | (c >>> 27)) + (d ^ e ^ a) + b + 0xca62c1d6 + w4) | 0;
  d = (d << 30) | (d >>> 2);
  x = w2 ^ w13 ^ w7 ^ w5;
  w5 = (x << 1) | (x >>> 31);
  a = (((b << 5) | (b >>> 27)) + (c ^ d ^ e) + a + 0xca62c1d6 + w5) | 0;
  c = (c << 30) | (c >>> 2);
  x = w3 ^ w14 ^ w8 ^ w6;
  w6 = (x << 1) | (x >>> 31);
  e = (((a << 5) | (a >>> 27)) + (b ^ c ^ d) + e + 0xca62c1d6 + w6) | 0;
  b = (b << 30) | (b >>> 2);
  x = w4 ^ w15 ^ w9 ^ w7;
  w7 = (x << 1) | (x >>> 31);
  d = (((e << 5) | (e >>> 27)) + (a ^ b ^ c) + d + 0xca62c1d6 + w7) | 0;
  a = (a << 30) | (a >>> 2);
  x = w5 ^ w0 ^ w10 ^ w8;
  w8 = (x << 1) | (x >>> 31);
  c = (((d << 5) | (d >>> 27)) + (e ^ a ^ b) + c + 0xca62c1d6 + w8) | 0;
  e = (e << 30) | (e >>> 2);
  x = w6 ^ w1 ^ w11 ^ w9;
  w9 = (x << 1) | (x >>> 31);
  b = (((c << 5) | (c >>> 27)) + (d ^ e ^ a) + b + 0xca62c1d6 + w9) | 0;
  d = (d << 30) | (d >>> 2);
  x = w7 ^ w2 ^ w12 ^ w10;
  w10 = (x << 1) | (x >>> 31);
  a = (((b << 5) | (b >>> 27)) + (c ^ d ^ e) + a + 0xca62c1d6 + w10) | 0;
  c = (c << 30) | (c >>> 2);
  x = w8 ^ w3 ^ w13 ^ w11;
  w11 = (x << 1) | (x >>> 31);
  e = (((a << 5) | (a >>> 27)) + (b ^ c ^ d) + e + 0xca62c1d6 + w11) | 0;
  b = (b << 30) | (b >>> 2);
  x = w9 ^ w4 ^ w14 ^ w12;
  w12 = (x << 1) | (x >>> 31);
  d = (((e << 5) | (e >>> 27)) + (a ^ b ^ c) + d + 0xca62c1d6 + w12) | 0;
  a = (a << 30) | (a >>> 2);
  x = w10 ^ w5 ^ w15 ^ w13;
  w13 = (x << 1) | (x >>> 31);
  c = (((d << 5) | (d >>> 27)) + (e ^ a ^ b) + c + 0xca62c1d6 + w13) | 0;
  e = (e << 30) | (e >>> 2);
  x = w11 ^ w6 ^ w0 ^ w14;
  w14 = (x << 1) | (x >>> 31);
  b = (((c << 5) | (c >>> 27)) + (d ^ e ^ a) + b + 0xca62c1d6 + w14) | 0;
  d = (d << 30) | (d >>> 2);
  x = w12 ^ w7 ^ w1 ^ w15;
  w15 = (x << 1) | (x >>> 31);
  a = (((b << 5) | (b >>> 27)) + (c ^ d ^ e) + a + 0xca62c1d6 + w15) | 0;
  c = (c << 30) | (c >>> 2);
  s[o] = (s[o]! + a) | 0;
  s[o + 1] = (s[o + 1]! + b) | 0;
  s[o + 2] = (s[o + 2]! + c) | 0;
  s[o + 3] = (s[o + 3]! + d) | 0;
  s[o + 4] = (s[o + 4]! + e) | 0;
}

/**
 * The hand-written HMAC-SHA-1 core, the default `algorithm`. Passing it is the same as passing `"SHA1"`.
 *
 * @example
 * ```ts
 * import { hotp, hmacSha1 } from "health-token/otp";
 * hotp(secret, 0, { algorithm: hmacSha1 }); // same as { algorithm: "SHA1" }
 * ```
 */
export const hmacSha1: OtpHash = /* @__PURE__ */ defineHash({
  algorithm: "SHA1",
  b: 16,
  n: 5,
  l: 8,
  iv: /* @__PURE__ */ new Int32Array([0x67452301, 0xefcdab89, 0x98badcfe, 0x10325476, 0xc3d2e1f0]),
  w: W,
  c: compress,
  k: /* @__PURE__ */ new Int32Array(10),
  t: /* @__PURE__ */ new Int32Array(5),
  p: /* @__PURE__ */ new Uint8Array(64),
});
