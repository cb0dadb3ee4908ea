/**
 * Rate limits of the token service, as fixed-window counters in the store: the resend cooldown and the sends
 * per guide, the failures per beneficiary across tokens, and the wrong attempts of app-mode codes.
 *
 * Every check is one atomic `increment` (or a `peek` for a read-only check), so concurrent callers cannot
 * both slip under a limit.
 *
 * @module
 */
import { LockedOutError, RateLimitedError } from "../errors.js";
import type { TokenStore } from "../ports/store.js";
import type { TokenPolicy } from "./token-policy.js";

/** Counter keys. Ids are opaque; the prefixes keep the families apart. */
export const rateLimitKeys = {
  /** Resend cooldown of a guide. */
  cooldown: (guideId: string) => `rl:cd:${guideId}`,
  /** Sends per guide. */
  sends: (guideId: string) => `rl:sg:${guideId}`,
  /** Failed verifications of a beneficiary. */
  failures: (beneficiaryId: string) => `rl:bf:${beneficiaryId}`,
  /** App-mode attempts on one guide by one beneficiary. */
  appAttempts: (guideId: string, beneficiaryId: string) => `rl:aa:${guideId}\u0000${beneficiaryId}`,
} as const;

/** Whole seconds until `resetAtMs`, at least 1. */
export function secondsUntil(resetAtMs: number, nowMs: number): number {
  return Math.max(1, Math.ceil((resetAtMs - nowMs) / 1000));
}

/** Throws `LockedOutError` when the beneficiary has reached the failures limit in the current window. */
export async function assertNotLockedOut(
  store: TokenStore,
  policy: TokenPolicy,
  beneficiaryId: string,
  nowMs: number,
): Promise<void> {
  const state = await store.peek(rateLimitKeys.failures(beneficiaryId), nowMs);
  if (state.count >= policy.maxFailuresPerBeneficiary) {
    throw new LockedOutError(secondsUntil(state.resetAtMs, nowMs));
  }
}

/** Whether the beneficiary is locked out (the read-only form of `assertNotLockedOut`). */
export async function isLockedOut(
  store: TokenStore,
  policy: TokenPolicy,
  beneficiaryId: string,
  nowMs: number,
): Promise<boolean> {
  const state = await store.peek(rateLimitKeys.failures(beneficiaryId), nowMs);
  return state.count >= policy.maxFailuresPerBeneficiary;
}

/**
 * Takes one send for a guide: the cooldown (one send per `resendCooldownSeconds`) and then the sends per guide
 * (`maxSendsPerGuide` per `sendWindowSeconds`). Throws `RateLimitedError` naming the limit.
 */
export async function takeSend(
  store: TokenStore,
  policy: TokenPolicy,
  guideId: string,
  nowMs: number,
): Promise<void> {
  // Read-only checks first, so a refused send consumes nothing (it neither restarts the cooldown nor uses up
  // a send); the increments below then decide atomically between concurrent callers.
  const cooldownKey = rateLimitKeys.cooldown(guideId);
  const sendsKey = rateLimitKeys.sends(guideId);
  if (policy.resendCooldownSeconds > 0) {
    const seen = await store.peek(cooldownKey, nowMs);
    if (seen.count >= 1) throw new RateLimitedError("cooldown", secondsUntil(seen.resetAtMs, nowMs));
  }
  const seenSends = await store.peek(sendsKey, nowMs);
  if (seenSends.count >= policy.maxSendsPerGuide) {
    throw new RateLimitedError("sends_per_guide", secondsUntil(seenSends.resetAtMs, nowMs));
  }
  if (policy.resendCooldownSeconds > 0) {
    const cooldown = await store.increment(cooldownKey, policy.resendCooldownSeconds * 1000, nowMs);
    if (cooldown.count > 1) throw new RateLimitedError("cooldown", secondsUntil(cooldown.resetAtMs, nowMs));
  }
  const sends = await store.increment(sendsKey, policy.sendWindowSeconds * 1000, nowMs);
  if (sends.count > policy.maxSendsPerGuide) {
    throw new RateLimitedError("sends_per_guide", secondsUntil(sends.resetAtMs, nowMs));
  }
}

/** Records one failed verification of a beneficiary (mismatch or wrong provider). */
export async function recordFailure(
  store: TokenStore,
  policy: TokenPolicy,
  beneficiaryId: string,
  nowMs: number,
): Promise<void> {
  await store.increment(rateLimitKeys.failures(beneficiaryId), policy.failureWindowSeconds * 1000, nowMs);
}
