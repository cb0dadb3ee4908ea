// The dual-package hazard, on the BUILT package: an error thrown by the ESM build is not an `instanceof` the
// CommonJS build's class, but both builds' isHealthTokenError recognise it. `npm test` builds first.
import { createRequire } from "node:module";
import { describe, expect, it } from "vitest";

type RootModule = typeof import("../../src/index.js");
const require = createRequire(import.meta.url);

describe("isHealthTokenError across the ESM and CommonJS builds", () => {
  it("recognises an error of the other build, where instanceof does not", async () => {
    const esm = (await import("health-token")) as RootModule;
    const cjs = require("health-token") as RootModule;
    const fromEsm = new esm.RateLimitedError("cooldown", 5);
    const fromCjs = new cjs.ConfigError("bad");
    expect(fromEsm instanceof cjs.HealthTokenError).toBe(false);
    expect(cjs.isHealthTokenError(fromEsm)).toBe(true);
    expect(esm.isHealthTokenError(fromCjs)).toBe(true);
    expect(esm.isHealthTokenError(fromEsm) && fromEsm.code).toBe("RATE_LIMITED");
  });

  it("with a code, narrows to that code's class across builds, and is false for any other code", async () => {
    const esm = (await import("health-token")) as RootModule;
    const cjs = require("health-token") as RootModule;
    const fromCjs: unknown = new cjs.RateLimitedError("cooldown", 42);
    expect(fromCjs instanceof esm.RateLimitedError).toBe(false);
    expect(esm.isHealthTokenError(fromCjs, "RATE_LIMITED") && fromCjs.retryAfterSeconds).toBe(42);
    expect(esm.isHealthTokenError(fromCjs, "LOCKED_OUT")).toBe(false);
    const invalid: unknown = new esm.InvalidArgumentError("bad", [{ path: "contactId", message: "unknown" }]);
    expect(cjs.isHealthTokenError(invalid, "INVALID_ARGUMENT") && invalid.issues[0]?.path).toBe("contactId");
    const fake = Object.assign(new Error("x"), { code: "RATE_LIMITED", retryAfterSeconds: 1 });
    expect(esm.isHealthTokenError(fake, "RATE_LIMITED")).toBe(false);
  });

  it("rejects look-alikes: a plain Error, an object with a code, null", async () => {
    const { isHealthTokenError } = (await import("health-token")) as RootModule;
    const fake = Object.assign(new Error("[health-token] x"), { code: "CONFIG", name: "ConfigError" });
    for (const value of [fake, { code: "CONFIG" }, null, undefined, "CONFIG"]) {
      expect(isHealthTokenError(value)).toBe(false);
    }
  });
});
