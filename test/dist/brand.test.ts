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

  it("rejects look-alikes: a plain Error, an object with a code, null", async () => {
    const { isHealthTokenError } = (await import("health-token")) as RootModule;
    const fake = Object.assign(new Error("[health-token] x"), { code: "CONFIG", name: "ConfigError" });
    for (const value of [fake, { code: "CONFIG" }, null, undefined, "CONFIG"]) {
      expect(isHealthTokenError(value)).toBe(false);
    }
  });
});
