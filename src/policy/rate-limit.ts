/**
 * Rate limits of the token service, as fixed-window counters in the store: the resend cooldown and the sends
 * per guide, the failures per beneficiary across tokens, and the wrong attempts of app-mode codes.
 *
 * Every check is one atomic `increment` (or a `peek` for a read-only check), so concurrent callers cannot
 * both slip under a limit.
 *
 * @module
 */

import { keyPart } from "../_internal/text.js";
import { LockedOutError, RateLimitedError } from "../errors.js";
import type { TokenStore } from "../ports/store.js";
import type { TokenPolicy } from "./token-policy.js";

/**
 * The keys of counters and claims. The prefixes keep the families apart; every id is percent-encoded
 * (`keyPart`), so a key holds only printable ASCII without NUL, braces, quotes or spaces, and two ids never
 * meet in one key. These are the exact shapes a store receives; the conformance kit uses them too.
 */
export const rateLimitKeys = {
  /** Resend cooldown of a guide. */
  cooldown: (guideId: string) => `rl:cd:${keyPart(guideId)}`,
  /** Sends per guide. */
  sends: (guideId: string) => `rl:sg:${keyPart(guideId)}`,
  /** Failed verifications of a beneficiary (the budget shared by sent and app codes). */
  failures: (beneficiaryId: string) => `rl:bf:${keyPart(beneficiaryId)}`,
  /** Codes presented for other providers' guides by one provider (`wrong_provider`). */
  providerFailures: (providerId: string) => `rl:pf:${keyPart(providerId)}`,
  /** App-mode attempts on one guide by one beneficiary. */
  appAttempts: (guideId: string, beneficiaryId: string) =>
    `rl:aa:${keyPart(guideId)}:${keyPart(beneficiaryId)}`,
  /** The claim of one TOTP step by one beneficiary (each step is accepted once). */
  totpStep: (beneficiaryId: string, step: number) => `totp:${keyPart(beneficiaryId)}:${step}`,
} as const;

/** Whole seconds until `resetAtMs`, at least 1. */
export function secondsUntil(resetAtMs: number, nowMs: number): number {
  return Math.max(1, Math.ceil((resetAtMs - nowMs) / 1000));
}

/** Whether the beneficiary has reached the failures limit in the current window (read-only). */
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
 * The checks of one issue, in this order of precedence: the beneficiary's lockout (`LockedOutError`), the
 * guide's resend cooldown (one send per `resendCooldownSeconds`) and the guide's sends (`maxSendsPerGuide` per
 * `sendWindowSeconds`, `RateLimitedError` naming the limit); then one send is taken.
 *
 * The three reads run together (one round-trip time on a networked store); a refused issue consumes nothing.
 * The increments then decide between concurrent callers, one after the other, so a caller refused by the
 * cooldown does not use up a send.
 */
export async function takeIssue(
  store: TokenStore,
  policy: TokenPolicy,
  target: { readonly guideId: string; readonly beneficiaryId: string },
  nowMs: number,
): Promise<void> {
  const cooldownKey = rateLimitKeys.cooldown(target.guideId);
  const sendsKey = rateLimitKeys.sends(target.guideId);
  const cooling = policy.resendCooldownSeconds > 0;
  const [failures, seen, seenSends] = await Promise.all([
    store.peek(rateLimitKeys.failures(target.beneficiaryId), nowMs),
    cooling ? store.peek(cooldownKey, nowMs) : undefined,
    store.peek(sendsKey, nowMs),
  ]);
  if (failures.count >= policy.maxFailuresPerBeneficiary) {
    throw new LockedOutError(secondsUntil(failures.resetAtMs, nowMs));
  }
  if (seen !== undefined && seen.count >= 1) {
    throw new RateLimitedError("cooldown", secondsUntil(seen.resetAtMs, nowMs));
  }
  if (seenSends.count >= policy.maxSendsPerGuide) {
    throw new RateLimitedError("sends_per_guide", secondsUntil(seenSends.resetAtMs, nowMs));
  }
  if (cooling) {
    const cooldown = await store.increment(cooldownKey, policy.resendCooldownSeconds * 1000, nowMs);
    if (cooldown.count > 1) throw new RateLimitedError("cooldown", secondsUntil(cooldown.resetAtMs, nowMs));
  }
  const sends = await store.increment(sendsKey, policy.sendWindowSeconds * 1000, nowMs);
  if (sends.count > policy.maxSendsPerGuide) {
    throw new RateLimitedError("sends_per_guide", secondsUntil(sends.resetAtMs, nowMs));
  }
}

/** Records one failed verification of a beneficiary (a sent code that did not match). */
export async function recordFailure(
  store: TokenStore,
  policy: TokenPolicy,
  beneficiaryId: string,
  nowMs: number,
): Promise<void> {
  await store.increment(rateLimitKeys.failures(beneficiaryId), policy.failureWindowSeconds * 1000, nowMs);
}

/**
 * Reserves one unit of the beneficiary's failure budget BEFORE a code is compared: one atomic increment,
 * taken back at once when it went past `maxFailuresPerBeneficiary` (the caller refuses with `locked` and
 * compares nothing). Of any burst, however many guides it spreads over, at most the budget's remainder is
 * ever compared. A reserved unit is kept when the code was wrong and given back with {@link releaseFailure}
 * otherwise. Returns whether the unit was reserved.
 */
export async function reserveFailure(
  store: TokenStore,
  policy: TokenPolicy,
  beneficiaryId: string,
  nowMs: number,
): Promise<boolean> {
  const key = rateLimitKeys.failures(beneficiaryId);
  const state = await store.increment(key, policy.failureWindowSeconds * 1000, nowMs);
  if (state.count <= policy.maxFailuresPerBeneficiary) return true;
  await store.decrement(key, nowMs);
  return false;
}

/** Gives back a unit reserved by {@link reserveFailure} (the code was not a wrong guess). */
export async function releaseFailure(store: TokenStore, beneficiaryId: string, nowMs: number): Promise<void> {
  await store.decrement(rateLimitKeys.failures(beneficiaryId), nowMs);
}

/** Records one code presented by a provider for a guide that is not its own (`wrong_provider`). */
export function recordProviderFailure(
  store: TokenStore,
  policy: TokenPolicy,
  providerId: string,
  nowMs: number,
): Promise<{ readonly count: number }> {
  return store.increment(
    rateLimitKeys.providerFailures(providerId),
    policy.failureWindowSeconds * 1000,
    nowMs,
  );
}
