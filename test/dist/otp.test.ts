// Runs against the BUILT package (dist/), imported by its name through the package's self-reference, from ESM
// and from CommonJS. `npm test` builds first.
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { describe, expect, it } from "vitest";
import { RFC4226_APPENDIX_D, RFC4226_SECRET } from "../vectors/rfc4226.js";
import { RFC6238_APPENDIX_B, RFC6238_SEEDS } from "../vectors/rfc6238.js";

type OtpModule = typeof import("../../src/otp/index.js");
type RootModule = typeof import("../../src/index.js");

const require = createRequire(import.meta.url);
const ascii = (text: string) => new TextEncoder().encode(text);

const flavours: [string, () => Promise<OtpModule>][] = [
  ["ESM", () => import("health-token/otp") as Promise<OtpModule>],
  ["CJS", async () => require("health-token/otp") as OtpModule],
];

describe.each(flavours)("health-token/otp, built, %s", (_flavour, load) => {
  it("resolves to dist", async () => {
    const resolved =
      _flavour === "CJS" ? require.resolve("health-token/otp") : import.meta.resolve("health-token/otp");
    expect(resolved).toMatch(_flavour === "CJS" ? /dist[/\\]otp\.cjs$/ : /dist\/otp\.js$/);
    // Not the sources under test elsewhere: a different module instance.
    const source = await import("../../src/otp/index.js");
    expect((await load()).hmacSha1).not.toBe(source.hmacSha1);
  });

  it("passes RFC 4226 Appendix D and RFC 6238 Appendix B", async () => {
    const otp = await load();
    const secret = ascii(RFC4226_SECRET);
    for (const row of RFC4226_APPENDIX_D) expect(otp.hotp(secret, row.counter)).toBe(row.hotp);
    for (const row of RFC6238_APPENDIX_B) {
      const seed = ascii(RFC6238_SEEDS[row.mode]);
      const options = { timeMs: row.timeSeconds * 1000, digits: 8, algorithm: row.mode };
      expect(otp.totp(seed, options)).toBe(row.totp);
      expect(otp.verifyTotp(seed, row.totp, options)).toMatchObject({ valid: true, delta: 0 });
    }
  });

  it("exposes the whole API, and throws the InvalidArgumentError it exports", async () => {
    const otp = await load();
    for (const name of [
      "hotp",
      "totp",
      "verifyHotp",
      "verifyTotp",
      "generateSecret",
      "base32Encode",
      "base32Decode",
      "buildOtpauthUri",
      "parseOtpauthUri",
      "hmacSha1",
      "hmacSha256",
      "hmacSha512",
      "InvalidArgumentError",
      "HealthTokenError",
    ]) {
      expect(otp, name).toHaveProperty(name);
    }
    expect(() => otp.hotp(new Uint8Array(0), 0)).toThrow(otp.InvalidArgumentError);
    expect(() => otp.base32Decode("!!")).toThrow(otp.HealthTokenError);
    const secret = otp.generateSecret();
    const uri = otp.buildOtpauthUri({ type: "totp", secret, account: "ana", issuer: "Plano Exemplo" });
    expect(otp.parseOtpauthUri(uri)).toEqual({
      type: "totp",
      secret,
      account: "ana",
      issuer: "Plano Exemplo",
    });
    expect(otp.verifyTotp(secret, otp.totp(secret))).toMatchObject({ valid: true, delta: 0 });
  });
});

describe("the root entry, built", () => {
  it("loads from ESM and CJS and shares the error classes with health-token/otp", async () => {
    const esmRoot = (await import("health-token")) as RootModule;
    const cjsRoot = require("health-token") as RootModule;
    const esmOtp = (await import("health-token/otp")) as OtpModule;
    const cjsOtp = require("health-token/otp") as OtpModule;
    expect(esmOtp.InvalidArgumentError).toBe(esmRoot.InvalidArgumentError);
    expect(cjsOtp.InvalidArgumentError).toBe(cjsRoot.InvalidArgumentError);
    let caught: unknown;
    try {
      esmOtp.hotp(new Uint8Array(0), 0);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(esmRoot.HealthTokenError);
    expect((caught as InstanceType<RootModule["HealthTokenError"]>).code).toBe("INVALID_ARGUMENT");
  });
});

describe("dist/otp.js", () => {
  it("imports no node: module and no zod (browser-safe, small)", () => {
    const seen = new Set<string>();
    const visit = (file: string) => {
      if (seen.has(file)) return;
      seen.add(file);
      const text = readFileSync(new URL(`../../dist/${file}`, import.meta.url), "utf8");
      expect(text, file).not.toMatch(/from\s*["'](node:|zod)/);
      for (const m of text.matchAll(/from\s*["']\.\/([^"']+)["']/g)) visit(m[1]!);
    };
    visit("otp.js");
    expect(seen.size).toBeGreaterThanOrEqual(1);
  });
});
