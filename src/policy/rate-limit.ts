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

/** A counter an issue checks, with its limit and window (the shape of the store port's issue step). */
export interface IssueCounter {
  readonly key: string;
  readonly max: number;
  readonly windowMs: number;
}

/** The counters of one issue: the beneficiary's failures (read only), the guide's cooldown and sends. */
export interface IssueCounters {
  readonly failures: IssueCounter;
  /** Absent when `resendCooldownSeconds` is 0. */
  readonly cooldown?: IssueCounter | undefined;
  readonly sends: IssueCounter;
}

/** Why an issue was refused, and when the refusing window ends. */
export interface IssueRefusal {
  readonly outcome: "locked_out" | "cooldown" | "sends_per_guide";
  readonly resetAtMs: number;
}

/** The counters of an issue for a guide and a beneficiary under `policy`. */
export function issueCounters(
  policy: TokenPolicy,
  target: { readonly guideId: string; readonly beneficiaryId: string },
): IssueCounters {
  const failures = {
    key: rateLimitKeys.failures(target.beneficiaryId),
    max: policy.maxFailuresPerBeneficiary,
    windowMs: policy.failureWindowSeconds * 1000,
  };
  const sends = {
    key: rateLimitKeys.sends(target.guideId),
    max: policy.maxSendsPerGuide,
    windowMs: policy.sendWindowSeconds * 1000,
  };
  // Two literals rather than a conditional spread: this runs on every issue.
  if (policy.resendCooldownSeconds <= 0) return { failures, sends };
  const cooldown = {
    key: rateLimitKeys.cooldown(target.guideId),
    max: 1,
    windowMs: policy.resendCooldownSeconds * 1000,
  };
  return { failures, cooldown, sends };
}

/** The error of a refused issue. */
export function issueRefusalError(refusal: IssueRefusal, nowMs: number): LockedOutError | RateLimitedError {
  const seconds = secondsUntil(refusal.resetAtMs, nowMs);
  return refusal.outcome === "locked_out"
    ? new LockedOutError(seconds)
    : new RateLimitedError(refusal.outcome, seconds);
}

/**
 * The checks of one issue on the fine-grained store methods, in this order of precedence: the beneficiary's
 * lockout, the guide's resend cooldown (one send per window), the guide's sends; then one hit is taken on the
 * cooldown and on the sends. Returns the refusal, or `undefined` when the issue may go on.
 *
 * The three reads run together (one round-trip time on a networked store); a refused issue consumes nothing.
 * The increments then decide between concurrent callers, one after the other, so a caller refused by the
 * cooldown does not use up a send.
 */
export async function takeIssueLimits(
  store: TokenStore,
  counters: IssueCounters,
  nowMs: number,
): Promise<IssueRefusal | undefined> {
  const { failures, cooldown, sends } = counters;
  const [failed, seen, seenSends] = await Promise.all([
    store.peek(failures.key, nowMs),
    cooldown ? store.peek(cooldown.key, nowMs) : undefined,
    store.peek(sends.key, nowMs),
  ]);
  if (failed.count >= failures.max) return { outcome: "locked_out", resetAtMs: failed.resetAtMs };
  if (cooldown && seen && seen.count >= cooldown.max)
    return { outcome: "cooldown", resetAtMs: seen.resetAtMs };
  if (seenSends.count >= sends.max) return { outcome: "sends_per_guide", resetAtMs: seenSends.resetAtMs };
  if (cooldown) {
    const state = await store.increment(cooldown.key, cooldown.windowMs, nowMs);
    if (state.count > cooldown.max) return { outcome: "cooldown", resetAtMs: state.resetAtMs };
  }
  const state = await store.increment(sends.key, sends.windowMs, nowMs);
  if (state.count > sends.max) return { outcome: "sends_per_guide", resetAtMs: state.resetAtMs };
  return undefined;
}

/**
 * The checks of one issue (see {@link takeIssueLimits}), throwing `LockedOutError` or `RateLimitedError`
 * (naming the limit) when refused. Used where no token is saved in the same step (a resend of the live code).
 */
export async function takeIssue(
  store: TokenStore,
  policy: TokenPolicy,
  target: { readonly guideId: string; readonly beneficiaryId: string },
  nowMs: number,
): Promise<void> {
  const refusal = await takeIssueLimits(store, issueCounters(policy, target), nowMs);
  if (refusal) throw issueRefusalError(refusal, nowMs);
}

/** Gives back a unit of the beneficiary's failure budget reserved before an app code was compared. */
export async function releaseFailure(store: TokenStore, beneficiaryId: string, nowMs: number): Promise<void> {
  await store.decrement(rateLimitKeys.failures(beneficiaryId), nowMs);
}
