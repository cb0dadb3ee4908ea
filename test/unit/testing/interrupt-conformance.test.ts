/**
 * The conformance kit's interrupted-step cases can fail: over a simulated connection (each call travels to an
 * in-memory "server" and back, a hop each way, and a cut makes every call in flight reject), a store whose
 * steps are the server's own (one call each) passes them, and a store that answers the steps by composing its
 * fine-grained methods over the connection (not atomic) fails every one of them, naming the half of the step
 * that was left. Without a hook the cases are skipped with the reason; a hook that never cuts, and a store
 * without a step, fail.
 */
import { describe, expect, it } from "vitest";
import { MemoryTokenStore } from "../../../src/adapters/memory.js";
import { StoreUnavailableError } from "../../../src/errors.js";
import {
  composeAppVerifyBegin,
  composeAppVerifyFinish,
  composeIssueStep,
  composeVerifyStep,
} from "../../../src/ports/_composed-steps.js";
import type { TokenStore } from "../../../src/ports/store.js";
import type { TokenStoreSteps } from "../../../src/ports/store-steps.js";
import { INTERRUPT_CASES } from "../../../src/testing/_interrupt-conformance.js";
import { STORE_OPERATIONS } from "../../../src/testing/_store-operations.js";
import {
  runStoreConformance,
  type StepInterrupter,
  type StoreConformanceOptions,
} from "../../../src/testing/store-conformance.js";

type SteppingStore = TokenStore & TokenStoreSteps;
const STEPS = ["issueStep", "verifyStep", "appVerifyBegin", "appVerifyFinish"] as const;

const hop = () => new Promise<void>((resolve) => setImmediate(resolve));

/**
 * A connection to `server`: each call waits a hop, runs on the server unless the connection was cut, and waits
 * a hop back; a cut rejects every call in flight with StoreUnavailableError (a reply lost after the server ran
 * the call, too). `steps`: `"server"` forwards each step as one call; `"composed"` composes it from the
 * fine-grained calls over the connection; `"none"` has no steps.
 */
function connection(server: MemoryTokenStore, steps: "server" | "composed" | "none") {
  let cut = false;
  const send = async (operation: string, args: unknown[]): Promise<unknown> => {
    await hop();
    if (cut) throw new StoreUnavailableError(`[link] ${operation} failed`);
    const result = await (server as unknown as Record<string, (...a: unknown[]) => Promise<unknown>>)[
      operation
    ]!(...args);
    await hop();
    if (cut) throw new StoreUnavailableError(`[link] ${operation}: the reply was lost`);
    return result;
  };
  const store: Record<string, unknown> = {};
  for (const op of STORE_OPERATIONS) store[op] = (...args: unknown[]) => send(op, args);
  const self = store as unknown as SteppingStore;
  if (steps === "server") {
    for (const step of STEPS) store[step] = (...args: unknown[]) => send(step, args);
  } else if (steps === "composed") {
    Object.assign(store, {
      issueStep: (input: never) => composeIssueStep(self, input),
      verifyStep: (input: never) => composeVerifyStep(self, input),
      appVerifyBegin: (input: never) => composeAppVerifyBegin(self, input),
      appVerifyFinish: (input: never) => composeAppVerifyFinish(self, input),
    });
  }
  return {
    store: self,
    cut: () => {
      cut = true;
    },
  };
}

/** The cuts: `round` hops after the step started (round 0: before its first call arrives). */
const cutAfterHops =
  (servers: Map<string, MemoryTokenStore>, steps: "server" | "composed" | "none"): StepInterrupter =>
  async ({ namespace, round, run }) => {
    const link = connection(servers.get(namespace)!, steps);
    const settled = run(link.store);
    for (let i = 0; i < round; i++) await hop();
    link.cut();
    await settled;
  };

/** Declares the kit into arrays and runs its interrupted-step cases; each case's error, or undefined. */
async function runInterruptCases(
  make: (servers: Map<string, MemoryTokenStore>) => Partial<StoreConformanceOptions>,
): Promise<{ failures: Record<string, string | undefined>; skipped: string[] }> {
  const servers = new Map<string, MemoryTokenStore>();
  const server = (namespace: string) => serverOf(servers, namespace);
  const cases: { title: string; body: () => Promise<void> }[] = [];
  const skipped: string[] = [];
  const options = make(servers);
  runStoreConformance({
    name: "simulated connection",
    createStore: ({ namespace }) => server(namespace),
    capabilities: { interruptRounds: 16, ...options.capabilities },
    ...options,
    test: {
      describe: (_name, body) => body(),
      it: Object.assign((title: string, body: () => Promise<void>) => void cases.push({ title, body }), {
        skip: (title: string) => void skipped.push(title),
      }),
    },
  });
  const failures: Record<string, string | undefined> = {};
  for (const title of Object.values(INTERRUPT_CASES)) {
    const found = cases.find((c) => c.title === title);
    if (found === undefined) continue;
    failures[title] = await found.body().then(
      () => undefined,
      (error: Error) => error.message,
    );
  }
  return { failures, skipped };
}

describe("the interrupted-step cases of the conformance kit", () => {
  it("pass on a store whose steps are one call each", async () => {
    const { failures } = await runInterruptCases((servers) => ({
      interrupt: cutAfterHops(servers, "server"),
    }));
    expect(failures).toEqual(
      Object.fromEntries(Object.values(INTERRUPT_CASES).map((title) => [title, undefined])),
    );
  });

  it("fail on a store that composes its steps from fine-grained calls, naming the half that was left", async () => {
    const { failures } = await runInterruptCases((servers) => ({
      interrupt: cutAfterHops(servers, "composed"),
    }));
    const messages = Object.values(INTERRUPT_CASES).map((title) => failures[title]);
    for (const message of messages) expect(message).toMatch(/half a step is left after the cut/);
    const verify = failures[INTERRUPT_CASES.verifyRight]!;
    expect(verify).toMatch(/\(as the step leaves it: token; as before the step: events\)/);
    console.info(`what the kit says of the composed store:\n${messages.join("\n\n")}`);
  });

  it("are skipped, with the reason, without a hook", async () => {
    const { failures, skipped } = await runInterruptCases(() => ({}));
    expect(failures).toEqual({});
    for (const title of Object.values(INTERRUPT_CASES)) {
      expect(skipped).toContain(
        `${title} (skipped: no options.interrupt: the kit has no way to cut this store's connection while a step is in flight)`,
      );
    }
  });

  it("fail with a hook that never cuts a step in flight", async () => {
    const { failures } = await runInterruptCases((servers) => ({
      interrupt: async ({ namespace, run }) => {
        await run(connection(servers.get(namespace)!, "server").store);
      },
    }));
    expect(failures[INTERRUPT_CASES.verifyRight]).toMatch(
      /the hook cut a step in 16 rounds of verifyStep .*: expected false to be true/,
    );
  });

  it("fail with a hook whose store is not on the case's namespace", async () => {
    const elsewhere: StepInterrupter = async ({ run }) => {
      await run(new MemoryTokenStore());
    };
    const { failures } = await runInterruptCases(() => ({ interrupt: elsewhere }));
    expect(failures[INTERRUPT_CASES.verifyRight]).toMatch(
      /round 0 of 16 .*: the state after a step that answered: expected "before" to be "after"/,
    );
  });

  it("fail on a store without the step, telling to implement or skip it", async () => {
    const { failures } = await runInterruptCases((servers) => ({
      createStore: ({ namespace }) => withoutStepsOf(servers, namespace),
      interrupt: cutAfterHops(servers, "none"),
    }));
    expect(failures[INTERRUPT_CASES.issue]).toMatch(
      /the store has no issueStep: the service composes it .* skip this case/,
    );
  });
});

/** The "server" of a namespace, made on first use. */
function serverOf(servers: Map<string, MemoryTokenStore>, namespace: string): MemoryTokenStore {
  const known = servers.get(namespace);
  if (known !== undefined) return known;
  const made = new MemoryTokenStore();
  servers.set(namespace, made);
  return made;
}

function withoutStepsOf(servers: Map<string, MemoryTokenStore>, namespace: string): TokenStore {
  return connection(serverOf(servers, namespace), "none").store;
}
