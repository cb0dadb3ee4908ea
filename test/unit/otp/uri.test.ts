import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  base32Decode,
  buildOtpauthUri,
  InvalidArgumentError,
  type OtpauthParams,
  parseOtpauthUri,
  totp,
} from "../../../src/otp/index.js";

const secret = base32Decode("JBSWY3DPEHPK3PXP");

function errorOf(fn: () => unknown): InvalidArgumentError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidArgumentError);
    return error as InvalidArgumentError;
  }
  throw new Error("expected a throw");
}

describe("otpauth URIs", () => {
  it("build the Key Uri Format with percent-encoded label parts", () => {
    expect(buildOtpauthUri({ type: "totp", secret, account: "alice@google.com", issuer: "Example" })).toBe(
      "otpauth://totp/Example:alice%40google.com?secret=JBSWY3DPEHPK3PXP&issuer=Example",
    );
    expect(
      buildOtpauthUri({
        type: "totp",
        secret,
        account: "cartão 0001",
        issuer: "Plano: Saúde & Cia",
        algorithm: "SHA256",
        digits: 8,
        periodSeconds: 60,
      }),
    ).toBe(
      "otpauth://totp/Plano%3A%20Sa%C3%BAde%20%26%20Cia:cart%C3%A3o%200001?secret=JBSWY3DPEHPK3PXP" +
        "&issuer=Plano%3A%20Sa%C3%BAde%20%26%20Cia&algorithm=SHA256&digits=8&period=60",
    );
    expect(buildOtpauthUri({ type: "hotp", secret, account: "ana", counter: 2n ** 60n })).toBe(
      "otpauth://hotp/ana?secret=JBSWY3DPEHPK3PXP&counter=1152921504606846976",
    );
  });

  it("parse the Google Authenticator example", () => {
    const params = parseOtpauthUri(
      "otpauth://totp/Example:alice@google.com?secret=JBSWY3DPEHPK3PXP&issuer=Example",
    );
    expect(params).toEqual({ type: "totp", secret, account: "alice@google.com", issuer: "Example" });
    expect(totp(params.secret, { ...params, timeMs: 0 })).toBe(totp(secret, { timeMs: 0 }));
  });

  it("parse leniently: %3A separator, spaces after the colon, case-insensitive scheme/type/algorithm, extra params", () => {
    expect(
      parseOtpauthUri(
        "OTPAUTH://TOTP/ACME%3Aana?secret=jbswy3dpehpk3pxp&issuer=ACME&algorithm=sha512&image=x",
      ),
    ).toEqual({ type: "totp", secret, account: "ana", issuer: "ACME", algorithm: "SHA512" });
    expect(parseOtpauthUri("otpauth://totp/ACME:%20%20ana?secret=JBSWY3DPEHPK3PXP")).toEqual({
      type: "totp",
      secret,
      account: "ana",
      issuer: "ACME",
    });
    // Without an issuer parameter an encoded colon belongs to the account.
    expect(parseOtpauthUri("otpauth://totp/a%3Ab?secret=JBSWY3DPEHPK3PXP")).toMatchObject({ account: "a:b" });
    expect(
      parseOtpauthUri("otpauth://hotp/x?secret=JBSWY3DPEHPK3PXP&counter=18446744073709551615"),
    ).toMatchObject({
      counter: 2n ** 64n - 1n,
    });
  });

  it("give a typed error naming what is wrong", () => {
    const cases: [string, string][] = [
      ["https://totp/a?secret=JBSWY3DPEHPK3PXP", "uri"],
      ["otpauth://motp/a?secret=JBSWY3DPEHPK3PXP", "type"],
      ["otpauth://totp/?secret=JBSWY3DPEHPK3PXP", "label"],
      ["otpauth://totp/a", "secret"],
      ["otpauth://totp/a?secret=", "secret"],
      ["otpauth://totp/a?secret=JBSWY3DPEHPK3PX1", "secret"],
      ["otpauth://totp/a?secret=JBSWY3DPEHPK3PXP&algorithm=MD5", "algorithm"],
      ["otpauth://totp/a?secret=JBSWY3DPEHPK3PXP&digits=5", "digits"],
      ["otpauth://totp/a?secret=JBSWY3DPEHPK3PXP&digits=six", "digits"],
      ["otpauth://totp/a?secret=JBSWY3DPEHPK3PXP&period=0", "period"],
      ["otpauth://totp/a?secret=JBSWY3DPEHPK3PXP&period=-30", "period"],
      ["otpauth://hotp/a?secret=JBSWY3DPEHPK3PXP", "counter"],
      ["otpauth://hotp/a?secret=JBSWY3DPEHPK3PXP&counter=18446744073709551616", "counter"],
      ["otpauth://hotp/a?secret=JBSWY3DPEHPK3PXP&counter=-1", "counter"],
      ["otpauth://totp/a?secret=JBSWY3DPEHPK3PXP&secret=JBSWY3DPEHPK3PXP", "secret"],
      ["otpauth://totp/A:b?secret=JBSWY3DPEHPK3PXP&issuer=B", "issuer"],
      ["otpauth://totp/%E0%A4%A?secret=JBSWY3DPEHPK3PXP", "label"],
    ];
    for (const [uri, path] of cases) {
      const error = errorOf(() => parseOtpauthUri(uri));
      expect(error.issues[0]?.path, uri).toBe(path);
      expect(error.message).not.toContain("JBSWY3DPEHPK3PX");
    }
  });

  it("refuse to build what they could not parse back", () => {
    expect(
      errorOf(() => buildOtpauthUri({ type: "totp", secret: new Uint8Array(0), account: "a" })).issues[0]
        ?.path,
    ).toBe("secret");
    expect(errorOf(() => buildOtpauthUri({ type: "totp", secret, account: "" })).issues[0]?.path).toBe(
      "account",
    );
    expect(
      errorOf(() => buildOtpauthUri({ type: "totp", secret, account: " a", issuer: "I" })).issues[0]?.path,
    ).toBe("account");
    expect(
      errorOf(() => buildOtpauthUri({ type: "totp", secret, account: "a", periodSeconds: 0 })).issues[0]
        ?.path,
    ).toBe("periodSeconds");
    expect(
      errorOf(() => buildOtpauthUri({ type: "hotp", secret, account: "a", counter: -1 })).issues[0]?.path,
    ).toBe("counter");
  });

  it("property: parse(build(params)) gives params back exactly", () => {
    const text = fc.string({ unit: "binary", minLength: 1, maxLength: 20 });
    const common = {
      secret: fc.uint8Array({ minLength: 1, maxLength: 64 }),
      account: text.filter((s) => !s.startsWith(" ")),
      issuer: text,
      algorithm: fc.constantFrom("SHA1" as const, "SHA256" as const, "SHA512" as const),
      digits: fc.integer({ min: 6, max: 10 }),
    };
    const requiredKeys = ["secret", "account"] as never[];
    const totpParams = fc.record(
      { type: fc.constant("totp" as const), ...common, periodSeconds: fc.integer({ min: 1, max: 86_400 }) },
      { requiredKeys: ["type", ...requiredKeys] },
    );
    const hotpParams = fc.record(
      {
        type: fc.constant("hotp" as const),
        ...common,
        counter: fc.oneof(fc.maxSafeNat(), fc.bigInt({ min: 2n ** 53n, max: 2n ** 64n - 1n })),
      },
      { requiredKeys: ["type", "counter", ...requiredKeys] },
    );
    fc.assert(
      fc.property(fc.oneof(totpParams, hotpParams), (params) => {
        const uri = buildOtpauthUri(params as OtpauthParams);
        expect(parseOtpauthUri(uri)).toEqual(params);
        expect(buildOtpauthUri(parseOtpauthUri(uri))).toBe(uri);
      }),
      { numRuns: 500 },
    );
  });
});
