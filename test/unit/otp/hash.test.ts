import { hmac as nobleHmac } from "@noble/hashes/hmac.js";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { digest, hmac, hmacPrepared, otpValue, prepareKey } from "../../../src/otp/_hmac.js";
import { hmacSha1, hmacSha256, hmacSha512 } from "../../../src/otp/index.js";
import { RFC4226_APPENDIX_D, RFC4226_SECRET } from "../../vectors/rfc4226.js";
import { ascii, hex, NOBLE } from "./_reference.js";

const CORES = [hmacSha1, hmacSha256, hmacSha512] as const;

describe("hand-written hash cores", () => {
  it("hash FIPS 180-4's one-block example 'abc' (Appendix B of the SHS examples)", () => {
    expect(hex(digest(hmacSha1, ascii("abc")))).toBe("a9993e364706816aba3e25717850c26c9cd0d89d");
    expect(hex(digest(hmacSha256, ascii("abc")))).toBe(
      "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
    );
    expect(hex(digest(hmacSha512, ascii("abc")))).toBe(
      "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f",
    );
  });

  for (const core of CORES) {
    const ref = NOBLE[core.algorithm];
    it(`${core.algorithm}: equals @noble/hashes at every length across the padding boundaries (0–300 bytes)`, () => {
      for (let length = 0; length <= 300; length++) {
        const message = Uint8Array.from({ length }, (_, i) => (i * 31 + length) & 0xff);
        expect(hex(digest(core, message))).toBe(hex(ref(message)));
      }
    });

    it(`${core.algorithm}: HMAC equals @noble/hashes for keys shorter than, equal to and longer than a block`, () => {
      const block = 4 * core.b;
      for (const keyLength of [1, 20, block - 1, block, block + 1, 3 * block + 7]) {
        const key = Uint8Array.from({ length: keyLength }, (_, i) => (i * 7 + 3) & 0xff);
        for (const messageLength of [0, 8, block - 9, block, 2 * block + 1]) {
          const message = Uint8Array.from({ length: messageLength }, (_, i) => (i * 13) & 0xff);
          expect(hex(hmac(core, key, message))).toBe(hex(nobleHmac(ref, key, message)));
        }
      }
    });

    it(`${core.algorithm}: HMAC equals @noble/hashes on random keys and messages (property)`, () => {
      fc.assert(
        fc.property(
          fc.uint8Array({ minLength: 0, maxLength: 300 }),
          fc.uint8Array({ minLength: 0, maxLength: 400 }),
          (key, message) => {
            expect(hex(hmac(core, key, message))).toBe(hex(nobleHmac(ref, key, message)));
          },
        ),
        { numRuns: 300 },
      );
    });

    it(`${core.algorithm}: the prepared-key HMAC equals @noble/hashes at every message length (0–300 bytes)`, () => {
      const out = new Uint8Array(4 * core.n + 4).fill(0xee);
      for (const keyLength of [0, 32, 4 * core.b + 5]) {
        const key = Uint8Array.from({ length: keyLength }, (_, i) => (i * 11 + 5) & 0xff);
        const state = prepareKey(core, key).slice();
        prepareKey(core, ascii("another key: the prepared state is a copy"));
        for (let length = 0; length <= 300; length++) {
          const message = Uint8Array.from({ length }, (_, i) => (i * 29 + length) & 0xff);
          hmacPrepared(core, state, message, out);
          expect(hex(out.subarray(0, 4 * core.n))).toBe(hex(nobleHmac(ref, key, message)));
          expect(out[4 * core.n]).toBe(0xee);
        }
      }
    });

    it(`${core.algorithm}: the two-compression OTP fast path equals the truncated @noble/hashes HMAC (property)`, () => {
      fc.assert(
        fc.property(
          fc.uint8Array({ minLength: 1, maxLength: 200 }),
          fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }),
          (key, counter) => {
            const message = new Uint8Array(8);
            new DataView(message.buffer).setBigUint64(0, counter);
            const mac = nobleHmac(ref, key, message);
            const offset = mac[mac.length - 1]! & 0xf;
            const expected = new DataView(mac.buffer).getUint32(offset) & 0x7fffffff;
            const state = prepareKey(core, key);
            expect(otpValue(core, state, Number(counter >> 32n), Number(counter & 0xffffffffn))).toBe(
              expected,
            );
          },
        ),
        { numRuns: 300 },
      );
    });
  }

  it("reproduce RFC 4226 Appendix D's intermediate HMAC-SHA-1 values and truncations", () => {
    const secret = ascii(RFC4226_SECRET);
    for (const row of RFC4226_APPENDIX_D) {
      const message = new Uint8Array(8);
      new DataView(message.buffer).setUint32(4, row.counter);
      expect(hex(hmac(hmacSha1, secret, message))).toBe(row.hmac);
      expect(otpValue(hmacSha1, prepareKey(hmacSha1, secret), 0, row.counter)).toBe(row.truncated);
    }
  });

  it("do not keep state from one key to the next, even when the caller mutates the same array", () => {
    const key = ascii(RFC4226_SECRET);
    const before = otpValue(hmacSha1, prepareKey(hmacSha1, key), 0, 0);
    key[0] = key[0]! ^ 1;
    const after = otpValue(hmacSha1, prepareKey(hmacSha1, key), 0, 0);
    expect(after).not.toBe(before);
    key[0] = key[0]! ^ 1;
    expect(otpValue(hmacSha1, prepareKey(hmacSha1, key), 0, 0)).toBe(before);
  });
});
