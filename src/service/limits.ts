/**
 * Call-centre operations on the rate limits: read why and until when a beneficiary or a guide is limited,
 * and lift a beneficiary's lockout (recorded as a `lockout.reset` event).
 *
 * @module
 */
import { rateLimitKeys } from "../policy/rate-limit.js";
import type { TokenPolicy } from "../policy/token-policy.js";
import type { CounterState, TokenStore } from "../ports/store.js";

/** One fixed-window counter as the call centre sees it. */
export interface LimitCounter {
  /** Hits in the current window. */
  readonly count: number;
  /** The limit it is compared with. */
  readonly max: number;
  /** Whether the limit is reached (the next issue is refused). */
  readonly limited: boolean;
  /** When the current window ends (ms since the epoch); `undefined` when the counter is empty. */
  readonly resetAtMs: number | undefined;
}

/** What `TokenService.limits` reads. */
export interface LimitsReport {
  /** Why the next issue for this beneficiary (and guide) is refused, or `undefined` when it is not. */
  readonly reason: "locked_out" | "cooldown" | "sends_per_guide" | undefined;
  /** Until when the refusing limit lasts (ms since the epoch); `undefined` when nothing refuses. */
  readonly untilMs: number | undefined;
  /** The beneficiary's failed verifications against `maxFailuresPerBeneficiary`. */
  readonly failures: LimitCounter;
  /** The guide's resend cooldown (max 1 send per `resendCooldownSeconds`), when a guide was given. */
  readonly cooldown?: LimitCounter;
  /** The guide's sends against `maxSendsPerGuide`, when a guide was given. */
  readonly sends?: LimitCounter;
}

/** What `TokenService.resetLockout` takes. */
export interface ResetLockoutOptions {
  /** Why (recorded in the event), such as `call_centre: family member mistyped`. 1–64 characters. */
  readonly reason: string;
}

/** The result of `TokenService.resetLockout`. */
export interface ResetLockoutResult {
  /** Whether the beneficiary was locked out before the reset. */
  readonly wasLocked: boolean;
  /** The failures taken back. */
  readonly cleared: number;
}

const counter = (state: CounterState, max: number): LimitCounter => ({
  count: state.count,
  max,
  limited: state.count >= max,
  resetAtMs: state.count === 0 ? undefined : state.resetAtMs,
});

/**
 * Reads the beneficiary's failures and, with a guide, its cooldown and sends, in the order of precedence of
 * an issue (lockout, cooldown, sends). Read-only: nothing is consumed.
 */
export async function readLimits(
  store: TokenStore,
  policy: TokenPolicy,
  beneficiaryId: string,
  guideId: string | undefined,
  nowMs: number,
): Promise<LimitsReport> {
  const [failures, cooldown, sends] = await Promise.all([
    store.peek(rateLimitKeys.failures(beneficiaryId), nowMs),
    guideId === undefined || policy.resendCooldownSeconds === 0
      ? undefined
      : store.peek(rateLimitKeys.cooldown(guideId), nowMs),
    guideId === undefined ? undefined : store.peek(rateLimitKeys.sends(guideId), nowMs),
  ]);
  const f = counter(failures, policy.maxFailuresPerBeneficiary);
  const c = guideId === undefined ? undefined : counter(cooldown ?? { count: 0, resetAtMs: 0 }, 1);
  const s = sends === undefined ? undefined : counter(sends, policy.maxSendsPerGuide);
  const refusing: [LimitsReport["reason"], LimitCounter | undefined][] = [
    ["locked_out", f],
    ["cooldown", c],
    ["sends_per_guide", s],
  ];
  const hit = refusing.find(([, state]) => state?.limited === true);
  return {
    reason: hit?.[0],
    untilMs: hit?.[1]?.resetAtMs,
    failures: f,
    ...(c === undefined ? {} : { cooldown: c }),
    ...(s === undefined ? {} : { sends: s }),
  };
}

/** Decrements issued at once per round (bounds the concurrent round trips on a networked store). */
const BATCH = 32;

/**
 * Takes the beneficiary's failures counter to zero with the port's atomic `decrement` (never below 0), one
 * batch per round until a read shows zero. The counter stays close to `maxFailuresPerBeneficiary`: an app
 * code's reservation above it is handed back at once, and a sent code adds at most its `maxAttempts`. So
 * with the default policy (10) a reset is one round of about 10 concurrent decrements. The rounds are bounded
 * by the count read first (plus one), so a counter that keeps growing under attack cannot hold the call
 * centre in a loop; what a concurrent attacker adds during the reset stays counted.
 */
export async function clearFailures(
  store: TokenStore,
  beneficiaryId: string,
  nowMs: number,
): Promise<{ before: number; cleared: number }> {
  const key = rateLimitKeys.failures(beneficiaryId);
  const before = (await store.peek(key, nowMs)).count;
  let left = before;
  let cleared = 0;
  for (let round = 0; left > 0 && round <= Math.ceil(before / BATCH); round++) {
    const n = Math.min(left, BATCH);
    const states = await Promise.all(Array.from({ length: n }, () => store.decrement(key, nowMs)));
    cleared += n;
    left = Math.min(...states.map((s) => s.count));
  }
  return { before, cleared: Math.min(cleared, before) };
}
