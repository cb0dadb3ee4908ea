/**
 * The conformance kits under `node:test`, which has no `expect` and takes a timeout as an option.
 *
 * @module
 */
import { InvalidArgumentError } from "../errors.js";
import { conformanceExpect } from "./expect.js";
import type { NotifierConformanceRunner } from "./notifier-conformance.js";
import type { ConformanceRunner } from "./store-conformance.js";

/**
 * The parts of the `node:test` module that {@link nodeTestRunner} calls.
 *
 * @example
 * ```ts
 * import * as nodeTest from "node:test";
 * const test = nodeTestRunner(nodeTest); // node:test's module satisfies NodeTestModule
 * runStoreConformance({ name: "MyStore", createStore: () => new MyStore(), capabilities, test });
 * ```
 */
export interface NodeTestModule {
  /** `node:test`'s `describe`. */
  describe(name: string, fn: () => void): unknown;
  /** `node:test`'s `it`, called with options. */
  it(name: string, options: { timeout?: number | undefined }, fn: () => Promise<void>): unknown;
}

/**
 * Wraps `node:test` as the runner of the conformance kits: `describe`, an `it` that passes the timeout as an
 * option (and keeps `it.skip`), and {@link conformanceExpect} as `expect`. The module is passed in, so
 * `health-token/testing` itself never imports `node:test`.
 *
 * @param nodeTest - the `node:test` module
 * @example
 * ```ts
 * import * as nodeTest from "node:test";
 * import { MemoryTokenStore, nodeTestRunner, runStoreConformance } from "health-token/testing";
 *
 * runStoreConformance({
 *   name: "MemoryTokenStore",
 *   createStore: () => new MemoryTokenStore(),
 *   capabilities: { sharedAcrossInstances: false },
 *   test: nodeTestRunner(nodeTest),
 * });
 * ```
 */
export function nodeTestRunner(nodeTest: NodeTestModule): ConformanceRunner & NotifierConformanceRunner {
  if (
    typeof nodeTest !== "object" ||
    nodeTest === null ||
    typeof nodeTest.describe !== "function" ||
    typeof nodeTest.it !== "function"
  ) {
    throw new InvalidArgumentError("nodeTestRunner needs the node:test module", [
      {
        path: "nodeTest",
        message: 'expected an object with describe and it (import * as nodeTest from "node:test")',
      },
    ]);
  }
  const options = (timeoutMs: number | undefined) => (timeoutMs === undefined ? {} : { timeout: timeoutMs });
  const it = (name: string, body: () => Promise<void>, timeoutMs?: number): void => {
    nodeTest.it(name, options(timeoutMs), body);
  };
  const skip = (nodeTest.it as { skip?: NodeTestModule["it"] }).skip;
  if (typeof skip === "function") {
    Object.assign(it, {
      skip: (name: string, body: () => Promise<void>) => skip.call(nodeTest.it, name, {}, body),
    });
  }
  return {
    describe: (name, body) => {
      nodeTest.describe(name, body);
    },
    it,
    expect: conformanceExpect,
  };
}
