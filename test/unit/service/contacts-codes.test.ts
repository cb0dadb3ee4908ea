import { hmac } from "@noble/hashes/hmac.js";
import { sha256 } from "@noble/hashes/sha2.js";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { CodeHasher, generateCode, normalizeCandidate } from "../../../src/_internal/codes.js";
import {
  base64urlDecode,
  base64urlEncode,
  base64urlOfText,
  RandomPool,
  randomId,
} from "../../../src/_internal/ids.js";
import {
  maskContact,
  maskEmail,
  maskPhone,
  normalizeContactAddress,
  normalizeEmail,
  normalizePhone,
} from "../../../src/contacts.js";
import { seededRandom } from "../../../src/testing/fakes.js";

describe("phones", () => {
  it.each([
    ["(43) 99999-1234", "+5543999991234"],
    ["043 9 9999 1234", "+5543999991234"],
    ["+55 43 99999-1234", "+5543999991234"],
    ["+55 (43) 99999-1234", "+5543999991234"],
    ["43999991234", "+5543999991234"],
    ["5543999991234", "+5543999991234"],
    ["0 15 43 99999-1234", "+5543999991234"],
    ["(11) 3333-4444", "+551133334444"],
    ["55 99999-1234", "+5555999991234"], // DDD 55 (RS)
    ["+1 415 555 0100", "+14155550100"],
  ])("normalizes %s", (input, e164) => {
    expect(normalizePhone(input)?.e164).toBe(e164);
  });

  it.each([
    "(00) 99999-1234", // no DDD 00
    "(20) 99999-1234", // DDD 20 does not exist
    "(43) 89999-1234", // 9 digits must start with 9
    "(43) 6999-1234", // 8 digits must be a landline 2–5
    "(43) 99999-123",
    "+55 43 99999-12345",
    "43 99999-1234 ext 2",
    "+0 123456789",
    "",
    "9".repeat(50),
  ])("refuses %s", (input) => {
    expect(normalizePhone(input)).toBeUndefined();
  });

  it("sms takes only mobiles; whatsapp also landlines", () => {
    expect(normalizeContactAddress("sms", "(11) 3333-4444")).toBeUndefined();
    expect(normalizeContactAddress("whatsapp", "(11) 3333-4444")).toBe("+551133334444");
  });

  it("masks keep only the DDD, the first and the last four digits", () => {
    expect(maskPhone("+5543999991234")).toBe("(43) 9****-1234");
    expect(maskPhone("+551133334444")).toBe("(11) 3***-4444");
    expect(maskPhone("+14155550100")).toBe("+*******0100");
    expect(maskContact("app", "device-1234567890abcd")).toBe("app ****abcd");
    expect(maskContact("app", "short")).toBe("app ****");
  });
});

describe("e-mails", () => {
  it("validates and masks", () => {
    expect(normalizeEmail("  Joao.Silva@Example.COM.br ")).toBe("Joao.Silva@example.com.br");
    expect(maskEmail("joao.silva@example.com.br")).toBe("j***@e***.com.br");
    expect(maskEmail("j@e.com")).toBe("j***@e***.com");
    for (const bad of [
      "a@b",
      "@example.com",
      "a@@example.com",
      "a..b@example.com",
      "a@-example.com",
      "a b@example.com",
      "a@example.c",
      `${"a".repeat(65)}@example.com`,
    ]) {
      expect(normalizeEmail(bad), bad).toBeUndefined();
    }
  });

  it("property: a mask never contains the local part beyond its first character", () => {
    fc.assert(
      fc.property(fc.emailAddress(), (email) => {
        const normalized = normalizeEmail(email);
        if (normalized === undefined) return;
        const masked = maskEmail(normalized);
        const local = normalized.slice(0, normalized.lastIndexOf("@"));
        if (local.length > 3) expect(masked).not.toContain(local);
        expect(masked).toMatch(/^.\*\*\*@.\*\*\*/u);
      }),
    );
  });
});

describe("codes", () => {
  it("generates 6-digit codes uniformly (chi-square over 100,000 draws, first digit and last digit)", () => {
    const pool = new RandomPool(seededRandom(1));
    const first = new Array(10).fill(0);
    const last = new Array(10).fill(0);
    for (let i = 0; i < 100_000; i++) {
      const code = generateCode(pool, 6);
      if (!/^\d{6}$/.test(code)) throw new Error(`bad code ${code}`);
      first[Number(code[0])]++;
      last[Number(code[5])]++;
    }
    const chi = (counts: number[]) => counts.reduce((acc, c) => acc + (c - 10_000) ** 2 / 10_000, 0);
    // 9 degrees of freedom: p = 0.001 at 27.88.
    expect(chi(first)).toBeLessThan(27.88);
    expect(chi(last)).toBeLessThan(27.88);
  });

  it("rejects draws at or above the largest multiple of 10^6 below 2^32 (no modulo bias)", () => {
    const limit = 2 ** 32 - (2 ** 32 % 1_000_000); // 4,294,000,000
    const words = [limit, 2 ** 32 - 1, limit - 1]; // the first two must be rejected
    const bytes = new Uint8Array(12);
    const view = new DataView(bytes.buffer);
    for (const [i, w] of words.entries()) view.setUint32(i * 4, w);
    let served = false;
    const pool = new RandomPool((n) => {
      if (served) throw new Error("drew more than three words");
      served = true;
      const out = new Uint8Array(n);
      out.set(bytes);
      return out;
    }, 12);
    expect(generateCode(pool, 6)).toBe(String((limit - 1) % 1_000_000).padStart(6, "0"));
  });

  it("10-digit codes use 48 bits", () => {
    const pool = new RandomPool(seededRandom(3));
    for (let i = 0; i < 1000; i++) expect(generateCode(pool, 10)).toMatch(/^\d{10}$/);
  });

  it("normalizes candidates: whitespace removed, exactly N ASCII digits", () => {
    expect(normalizeCandidate(" 123 456\t", 6)).toBe("123456");
    for (const bad of ["12345", "1234567", "12345a", "١٢٣٤٥٦", "123-456", `${" ".repeat(100)}123456`]) {
      expect(normalizeCandidate(bad, 6)).toBeUndefined();
    }
  });

  it("hash is h1: + base64url(HMAC-SHA256(pepper, guideId ‖ 0x00 ‖ code)), reusable across calls", () => {
    const pepper = new TextEncoder().encode("p".repeat(32));
    const hasher = new CodeHasher(pepper);
    const reference = (guideId: string, code: string) =>
      `h1:${base64urlEncode(hmac(sha256, pepper, new TextEncoder().encode(`${guideId}\u0000${code}`)))}`;
    for (const [g, c] of [
      ["G-1", "123456"],
      ["guia-ção-日本", "000000"],
      ["x".repeat(400), "999999"],
    ] as const) {
      expect(hasher.hash(g, c)).toBe(reference(g, c));
      expect(hasher.hash(g, c)).toBe(reference(g, c));
    }
    // The separator keeps ("G-1", "23456…") apart from ("G-12", "3456…").
    expect(hasher.hash("G-1", "234567")).not.toBe(hasher.hash("G-12", "34567"));
  });

  it("hash equals the @noble/hashes reference for any guide id and code text (property)", () => {
    const pepper = new TextEncoder().encode("q".repeat(40));
    const hasher = new CodeHasher(pepper);
    fc.assert(
      fc.property(
        fc.string({ unit: "binary", maxLength: 300 }),
        fc.string({ unit: "binary", maxLength: 12 }),
        (guideId, code) => {
          const expected = `h1:${base64urlEncode(hmac(sha256, pepper, new TextEncoder().encode(`${guideId}\u0000${code}`)))}`;
          expect(hasher.hash(guideId, code)).toBe(expected);
        },
      ),
      { numRuns: 500 },
    );
  });

  it("ids are the pool's bytes in order, each byte used once and then zeroed in the pool", () => {
    const served: Uint8Array[] = [];
    const source = seededRandom(11);
    const copy = seededRandom(11);
    // A 20-byte pool: the second id straddles a refill (the copying path), the others are encoded in place.
    const pool = new RandomPool((n) => {
      const bytes = source(n);
      served.push(bytes);
      return bytes;
    }, 20);
    const expected = copy(40);
    const ids = [randomId(pool), randomId(pool), randomId(pool)];
    expect(ids[0]).toBe(base64urlEncode(expected.subarray(0, 12)));
    expect(ids[1]).toBe(base64urlEncode(expected.subarray(12, 24)));
    expect(ids[2]).toBe(base64urlEncode(expected.subarray(24, 36)));
    expect(served.length).toBe(2);
    expect([...served[0]!].every((b) => b === 0)).toBe(true);
    expect([...served[1]!.subarray(0, 16)].every((b) => b === 0)).toBe(true);
    expect(served[1]!.subarray(16).some((b) => b !== 0)).toBe(true);
  });

  it("ids and base64url round-trip", () => {
    const pool = new RandomPool(seededRandom(9));
    const ids = new Set(Array.from({ length: 1000 }, () => randomId(pool)));
    expect(ids.size).toBe(1000);
    for (const id of ids) expect(id).toMatch(/^[A-Za-z0-9_-]{16}$/);
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
        expect(base64urlDecode(base64urlEncode(bytes))).toEqual(bytes);
      }),
    );
  });

  it("base64urlOfText is base64url of the text's UTF-8, short (scratch) or long, any text (property)", () => {
    const reference = (text: string) => base64urlEncode(new TextEncoder().encode(text));
    for (const text of [
      "",
      "G-1",
      "guia-ção-日本",
      "\ud800",
      "x".repeat(341),
      "y".repeat(342),
      "ç".repeat(600),
    ]) {
      expect(base64urlOfText(text)).toBe(reference(text));
    }
    fc.assert(
      fc.property(fc.string({ unit: "binary", maxLength: 700 }), (text) => {
        expect(base64urlOfText(text)).toBe(reference(text));
      }),
      { numRuns: 500 },
    );
  });

  it("seededRandom is deterministic per seed", () => {
    expect(seededRandom(5)(16)).toEqual(seededRandom(5)(16));
    expect(seededRandom(5)(16)).not.toEqual(seededRandom(6)(16));
  });
});
