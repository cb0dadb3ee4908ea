/**
 * Shared by the Redis and PostgreSQL suites: a token builder and one call of every store operation, for
 * counting round trips.
 */
import type { NewToken, TokenStore } from "../../src/ports/store.js";
import { T0 } from "./fault-fixtures.js";

export { T0 };

/** A 30-minute, 5-attempt token of guide-1 issued at `T0`, code hash `h1:<tokenId>`, with `over` applied. */
export function token(over: Partial<NewToken> & { tokenId: string }): NewToken {
  return {
    guideId: "guide-1",
    providerId: "provider-1",
    beneficiaryId: "beneficiary-1",
    codeHash: `h1:${over.tokenId}`,
    issuedAtMs: T0,
    expiresAtMs: T0 + 30 * 60_000,
    maxAttempts: 5,
    channel: "sms",
    ...over,
  };
}

/**
 * One named call of each operation of the {@link TokenStore} contract except `purge` (a sweep, which a store
 * may run in several steps), on `token`'s guide, a counter and a claim named after it, and beneficiary `b`.
 * `listBefore` pages the event list from that event id.
 */
export function contractOperations(
  store: TokenStore,
  token: NewToken,
  nowMs: number,
  listBefore?: string,
): [string, () => Promise<unknown>][] {
  const guideId = token.guideId;
  return [
    ["save", () => store.save(token)],
    ["attempt", () => store.attempt({ guideId, providerId: "provider-1", candidateHash: "h1:x", nowMs })],
    ["revoke", () => store.revoke(guideId, nowMs)],
    ["get", () => store.get(guideId)],
    ["increment", () => store.increment(`${guideId}-c`, 1000, nowMs)],
    ["peek", () => store.peek(`${guideId}-c`, nowMs)],
    ["claimOnce", () => store.claimOnce(`${guideId}-o`, nowMs + 1000, nowMs)],
    [
      "putAppSecret",
      () => store.putAppSecret({ beneficiaryId: "b", keyId: "k", ciphertext: "c", createdAtMs: nowMs }),
    ],
    ["getAppSecret", () => store.getAppSecret("b")],
    [
      "appendEvent",
      () => store.appendEvent({ id: "e1", type: "token.issued", atMs: nowMs, beneficiaryId: "b" }),
    ],
    [
      "listEvents",
      () =>
        store.listEvents("b", listBefore === undefined ? { limit: 10 } : { limit: 10, before: listBefore }),
    ],
  ];
}
