/**
 * Shared by the Redis and PostgreSQL suites: a token builder and one call of every store operation, for
 * counting round trips.
 */
import { hmac } from "@noble/hashes/hmac.js";
import { sha256 } from "@noble/hashes/sha2.js";
import { bytesToHex, utf8ToBytes } from "@noble/hashes/utils.js";
import { expect } from "vitest";
import type { Channel } from "../../src/ports/notifier.js";
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
    ["decrement", () => store.decrement(`${guideId}-c`, nowMs)],
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

/**
 * Seeds what the at-rest scans look for: a token of `scan-guide` (beneficiary `scan-b`) whose hash is a real
 * keyed hash of `code`, and its delivery event with a masked contact. Returns the code and its hash.
 */
export async function seedScanData(
  store: TokenStore,
  channel: Channel,
): Promise<{ readonly code: string; readonly codeHash: string }> {
  const code = "482915";
  const pepper = utf8ToBytes("test-pepper-0123456789abcdef0123456789");
  const codeHash = `h1:${bytesToHex(hmac(sha256, pepper, utf8ToBytes(`scan-guide\u0000${code}`)))}`;
  expect(codeHash.includes(code)).toBe(false); // precondition: the hash does not spell the code by chance
  await store.save(token({ tokenId: "scan-tok", guideId: "scan-guide", beneficiaryId: "scan-b", codeHash }));
  await store.appendEvent({
    id: "scan-e",
    type: "token.delivered",
    atMs: T0,
    beneficiaryId: "scan-b",
    guideId: "scan-guide",
    channel,
    maskedContact: "(43) 9****-0001",
  });
  return { code, codeHash };
}
