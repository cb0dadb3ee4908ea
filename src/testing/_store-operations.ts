/**
 * The fine-grained operations of the store port, listed once for the wrappers of `health-token/testing`
 * (`failingStore`, `withoutSteps`).
 *
 * @module
 */
import type { TokenStore } from "../ports/store.js";

/** The operations of a {@link TokenStore}. */
export type StoreOperation = {
  [K in keyof TokenStore]: TokenStore[K] extends (...args: never[]) => unknown ? K : never;
}[keyof TokenStore];

// Every operation of the port, checked by the compiler: a new one must be added here.
const EVERY: Record<StoreOperation, true> = {
  save: true,
  attempt: true,
  revoke: true,
  get: true,
  increment: true,
  decrement: true,
  peek: true,
  claimOnce: true,
  putAppSecret: true,
  getAppSecret: true,
  appendEvent: true,
  listEvents: true,
  purge: true,
};

/** Every operation of the port, in the order of its declaration. */
export const STORE_OPERATIONS = Object.keys(EVERY) as readonly StoreOperation[];
