/**
 * A store wrapper that fails chosen operations a chosen number of times, to test `StoreUnavailableError` paths.
 *
 * @module
 */
import type { TokenStore } from "../ports/store.js";
import { STORE_OPERATIONS, type StoreOperation } from "./_store-operations.js";

export type { StoreOperation } from "./_store-operations.js";

/** Failures per operation, such as `{ attempt: 2 }` (an operation left out, or `undefined`, never fails). */
export type FailurePlan = { readonly [O in StoreOperation]?: number | undefined };

/**
 * A {@link TokenStore} whose chosen operations reject, made by {@link failingStore}.
 *
 * @example
 * ```ts
 * const store: FailingStore = failingStore(new MemoryTokenStore());
 * store.failNext("attempt"); // the next attempt rejects with a store error: verify must fail closed
 * store.pending;             // { attempt: 1 }
 * ```
 */
export interface FailingStore extends TokenStore {
  /** Makes the next `times` calls of `operation` reject (added to what is still planned); returns the store. */
  failNext(operation: StoreOperation, times?: number): this;
  /** How many planned failures of each operation are left. */
  readonly pending: FailurePlan;
}

/**
 * Wraps a store so that the next N calls of chosen operations reject with an `Error` (as a lost connection
 * would); every other call goes to the wrapped store. The token service turns the rejection into
 * `StoreUnavailableError`.
 *
 * @param store - the store that answers the calls that do not fail
 * @param plan - failures per operation, such as `{ attempt: 2 }`
 * @example
 * ```ts
 * const store = failingStore(new MemoryTokenStore(), { attempt: 1 });
 * const tokens = createTokenService({ store, notifier: outbox, pepper });
 * await tokens.issue({ guide, beneficiary });
 * await expect(tokens.verify({ guideId, providerId, code })).rejects.toThrow(StoreUnavailableError);
 * store.failNext("save", 2); // the next two saves fail
 * ```
 */
export function failingStore(store: TokenStore, plan: FailurePlan = {}): FailingStore {
  const pending: { [O in StoreOperation]?: number | undefined } = { ...plan };
  const wrapper = {
    pending,
    failNext(operation: StoreOperation, times = 1) {
      pending[operation] = (pending[operation] ?? 0) + times;
      return wrapper;
    },
  } as FailingStore;
  for (const operation of STORE_OPERATIONS) {
    const call = (...args: unknown[]): Promise<unknown> => {
      const left = pending[operation] ?? 0;
      if (left > 0) {
        pending[operation] = left - 1;
        return Promise.reject(new Error(`failingStore: ${operation} told to fail`));
      }
      return (store[operation] as (...a: unknown[]) => Promise<unknown>).apply(store, args);
    };
    Object.assign(wrapper, { [operation]: call });
  }
  return wrapper;
}
