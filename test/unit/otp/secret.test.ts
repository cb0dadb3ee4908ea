import { describe, expect, it } from "vitest";
import { generateSecret, InvalidArgumentError } from "../../../src/otp/index.js";

describe("generateSecret", () => {
  it("returns 20 fresh bytes from the platform CSPRNG by default", () => {
    const a = generateSecret();
    const b = generateSecret();
    expect(a).toBeInstanceOf(Uint8Array);
    expect(a.length).toBe(20);
    expect(a).not.toEqual(b);
  });

  it("uses the injected RandomSource and the requested length", () => {
    const calls: number[] = [];
    const random = (length: number) => {
      calls.push(length);
      return new Uint8Array(length).fill(7);
    };
    expect(generateSecret({ bytes: 32, random })).toEqual(new Uint8Array(32).fill(7));
    expect(calls).toEqual([32]);
  });

  it("refuses lengths under RFC 4226's 128 bits or over 128 bytes, and a random source that misbehaves", () => {
    for (const bytes of [15, 129, 20.5, 0])
      expect(() => generateSecret({ bytes })).toThrow(InvalidArgumentError);
    expect(() => generateSecret({ random: (n) => new Uint8Array(n - 1) })).toThrow(InvalidArgumentError);
    expect(() => generateSecret({ random: () => [1, 2] as unknown as Uint8Array })).toThrow(
      InvalidArgumentError,
    );
  });
});
