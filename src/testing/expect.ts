/**
 * The assertions of the conformance kits. The kits compare with these, never with the runner's `expect`, so a
 * verdict cannot depend on the runner: a key whose value is `undefined` counts as absent under vitest, Jest and
 * `node:test` alike (vitest's `toEqual` ignores it, `assert.deepStrictEqual` does not).
 *
 * @module
 */

import { same, show } from "./_same.js";

/**
 * The assertions of {@link conformanceExpect}: `toBe`, `toEqual` and `toBeUndefined`, as vitest names them.
 *
 * @example
 * ```ts
 * conformanceExpect(result.ok, "the first correct attempt").toBe(true);
 * conformanceExpect({ status: "active", attempts: 1 }).toEqual({ status: "active", attempts: 1 });
 * conformanceExpect(result.attemptsLeft, "attempts left after a success").toBeUndefined();
 * ```
 */
export interface ConformanceAssertion {
  /** `Object.is` equality. */
  toBe(expected: unknown): void;
  /** Deep equality of plain values, objects and arrays; a key holding `undefined` counts as absent. */
  toEqual(expected: unknown): void;
  /** The value is `undefined`. */
  toBeUndefined(): void;
}

/**
 * Thrown by a failed {@link conformanceExpect} assertion; every runner reports it as a failed case.
 *
 * @example
 * ```ts
 * try {
 *   conformanceExpect(1, "ok results").toBe(2);
 * } catch (error) {
 *   if (error instanceof ConformanceAssertionError) console.log(error.actual, error.expected); // 1 2
 * }
 * ```
 */
export class ConformanceAssertionError extends Error {
  /** The value under test. */
  readonly actual: unknown;
  /** The value it was compared with. */
  readonly expected: unknown;

  /**
   * @param message - what was expected, with the label when one was given
   * @param actual - the value under test
   * @param expected - the value it was compared with
   */
  constructor(message: string, actual: unknown, expected: unknown) {
    super(message);
    this.name = "ConformanceAssertionError";
    this.actual = actual;
    this.expected = expected;
  }
}

/**
 * The `expect` of the conformance kits, and an `expect` shim for runners that have none (`node:test`). The
 * optional label names what is compared, so a failure reads "ok results among 200 concurrent correct attempts:
 * expected 195 to be 1" rather than a bare "expected 195 to be 1".
 *
 * @param actual - the value under test
 * @param label - what the value is, printed before the failure
 * @example
 * ```ts
 * import { conformanceExpect as expect } from "health-token/testing";
 *
 * expect({ a: 1, b: undefined }).toEqual({ a: 1 }); // passes: undefined keys count as absent
 * expect(okCount, "ok results among 200 concurrent correct attempts").toBe(1);
 * ```
 */
export function conformanceExpect(actual: unknown, label?: string): ConformanceAssertion {
  const fail = (what: string, expected: unknown): never => {
    const prefix = label === undefined ? "" : `${label}: `;
    throw new ConformanceAssertionError(`${prefix}expected ${show(actual)} ${what}`, actual, expected);
  };
  return {
    toBe: (expected) => {
      if (!Object.is(actual, expected)) fail(`to be ${show(expected)}`, expected);
    },
    toEqual: (expected) => {
      if (!same(actual, expected)) fail(`to equal ${show(expected)}`, expected);
    },
    toBeUndefined: () => {
      if (actual !== undefined) fail("to be undefined", undefined);
    },
  };
}
