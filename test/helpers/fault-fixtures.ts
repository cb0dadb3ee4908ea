/** Shared by the Redis and PostgreSQL fault suites: a fixed "now", numbered tokens, and settled attempts. */
import type { AttemptResult, NewToken, TokenStore } from "../../src/ports/store.js";

/** 2026-09-21T00:00:00Z. */
export const T0 = 1_790_000_000_000;

/** Token number `i`: its own guide and beneficiary, code hash `h1:code-<i>`, 30 minutes, 5 attempts. */
export function token(i: number): NewToken {
  return {
    tokenId: `tok-${i}`,
    guideId: `guide-${i}`,
    providerId: "provider-1",
    beneficiaryId: `b-${i}`,
    codeHash: `h1:code-${i}`,
    issuedAtMs: T0,
    expiresAtMs: T0 + 30 * 60_000,
    maxAttempts: 5,
    channel: "sms",
  };
}

/** The correct attempt at token `i` (see {@link token}): its guide, its provider, its code hash, at `T0`. */
export function attemptCorrect(store: TokenStore, i: number): Promise<AttemptResult> {
  return store.attempt({
    guideId: `guide-${i}`,
    providerId: "provider-1",
    candidateHash: `h1:code-${i}`,
    nowMs: T0,
  });
}

/** An attempt's outcome or its error, never a rejection. */
export type Settled = { ok: true; value: AttemptResult } | { ok: false; error: unknown };

/** Settles an attempt into a {@link Settled}. */
export const settle = (p: Promise<AttemptResult>): Promise<Settled> =>
  p.then(
    (value) => ({ ok: true as const, value }),
    (error: unknown) => ({ ok: false as const, error }),
  );
