/**
 * health-token/testing: test doubles and conformance kits, for tests and demos only.
 *
 * - {@link FakeClock}: a clock that moves only when told to.
 * - {@link OutboxNotifier}: a notifier that records messages (read the code with `lastCodeFor`) and can fail.
 * - {@link seededRandom}: a deterministic, NOT secure, random source.
 * - {@link MemoryTokenStore}: the in-memory store (also in the root entry).
 *
 * @example
 * ```ts
 * import { createTokenService } from "health-token";
 * import { FakeClock, MemoryTokenStore, OutboxNotifier } from "health-token/testing";
 *
 * const clock = new FakeClock();
 * const outbox = new OutboxNotifier();
 * const tokens = createTokenService({ store: new MemoryTokenStore(), notifier: outbox, pepper: process.env.HEALTH_TOKEN_PEPPER!, clock });
 * await tokens.issue({ guide: { id: "G-1", providerId: "P-1" }, beneficiary });
 * const result = await tokens.verify({ guideId: "G-1", providerId: "P-1", code: outbox.lastCodeFor(beneficiary.id) });
 * ```
 *
 * @module
 */
export {
  type MemoryStoreSnapshot,
  MemoryTokenStore,
  type MemoryTokenStoreOptions,
} from "../adapters/memory.js";
export { withoutSteps } from "./_step-conformance.js";
export * from "./expect.js";
export * from "./failing-store.js";
export {
  EventRecorder,
  FakeClock,
  type OutboxFailedSend,
  type OutboxFailure,
  OutboxNotifier,
  seededRandom,
} from "./fakes.js";
export * from "./node-test.js";
export * from "./notifier-conformance.js";
export * from "./store-conformance.js";
