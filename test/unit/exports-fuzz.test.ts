/**
 * Every public function and class of every entry, called with arbitrary arguments (fast-check), returns,
 * resolves, or throws/rejects a HealthTokenError subclass: never a plain TypeError, RangeError or a crash.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import * as postgres from "../../src/adapters/postgres.js";
import * as receipts from "../../src/adapters/receipts/index.js";
import * as redis from "../../src/adapters/redis.js";
import * as sms from "../../src/adapters/sms.js";
import * as smtp from "../../src/adapters/smtp.js";
import * as webhook from "../../src/adapters/webhook.js";
import * as whatsapp from "../../src/adapters/whatsapp.js";
import { HealthTokenError } from "../../src/errors.js";
import * as http from "../../src/http/index.js";
import * as root from "../../src/index.js";
import * as otp from "../../src/otp/index.js";
import * as testing from "../../src/testing/index.js";
import * as tiss from "../../src/tiss/index.js";

const ENTRIES: Record<string, Record<string, unknown>> = {
  "health-token": root,
  "health-token/otp": otp,
  "health-token/testing": testing,
  "health-token/redis": redis,
  "health-token/postgres": postgres,
  "health-token/smtp": smtp,
  "health-token/whatsapp": whatsapp,
  "health-token/sms": sms,
  "health-token/webhook": webhook,
  "health-token/http": http,
  "health-token/tiss": tiss,
  "health-token/receipts": receipts,
};

/** Arguments that typically break an unchecked helper: wrong types, null, nested junk. */
const junk = fc.oneof(
  fc.constantFrom(
    null,
    undefined,
    0,
    -1,
    Number.NaN,
    Number.POSITIVE_INFINITY,
    "",
    true,
    [],
    {},
    Symbol("s"),
  ),
  fc.string(),
  fc.integer(),
  fc.double(),
  fc.uint8Array({ maxLength: 40 }),
  fc.array(fc.anything(), { maxLength: 3 }),
  fc.anything(),
);

const isClass = (f: unknown): f is new (...a: unknown[]) => unknown =>
  typeof f === "function" && /^class[\s{]/.test(Function.prototype.toString.call(f));

const TIMEOUT = Symbol("timeout");

async function outcome(call: () => unknown): Promise<unknown> {
  try {
    const value = call();
    if (value && typeof (value as Promise<unknown>).then === "function") {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const timeout = new Promise((resolve) => {
        timer = setTimeout(() => resolve(TIMEOUT), 500);
      });
      try {
        await Promise.race([value, timeout]);
      } finally {
        clearTimeout(timer);
      }
    }
    return undefined;
  } catch (error) {
    return error;
  }
}

/** Exports whose contract is to run the caller's tests, or that are plain data. */
const NOT_CALLED = new Set<string>([]);

for (const [entry, mod] of Object.entries(ENTRIES)) {
  describe(`${entry}: arbitrary arguments`, () => {
    const callables = Object.entries(mod).filter(
      ([name, value]) => typeof value === "function" && !NOT_CALLED.has(`${entry}#${name}`),
    );
    it(`${callables.length} exports throw only HealthTokenError subclasses`, async () => {
      const failures = new Map<string, string>();
      for (const [name, fn] of callables) {
        // Error classes are what the library throws or attaches as a cause, not something a caller builds.
        if ((fn as { prototype?: unknown }).prototype instanceof Error) {
          continue;
        }
        await fc.assert(
          fc.asyncProperty(fc.array(junk, { maxLength: 3 }), async (args) => {
            const call = isClass(fn)
              ? () => new fn(...args)
              : () => (fn as (...a: unknown[]) => unknown)(...args);
            const error = await outcome(call);
            if (error !== undefined && !(error instanceof HealthTokenError)) {
              failures.set(name, `${(error as Error)?.constructor?.name}: ${(error as Error)?.message}`);
            }
          }),
          { numRuns: 60, seed: 20261201 },
        );
      }
      expect(Object.fromEntries(failures)).toEqual({});
    });
  });
}
