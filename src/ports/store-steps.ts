/**
 * The intent-level operations a {@link TokenStore} MAY add: one atomic round trip per service call instead of
 * the service composing the fine-grained methods. A store that implements none of them still works: the
 * service then composes `peek`, `increment`, `save`, `attempt` and `appendEvent`, with the same outcomes and
 * the same events (the conformance kit checks that both forms agree).
 *
 * Each step is atomic with the events it appends: after a crash or a lost connection, either the state
 * change and its events both happened, or neither did. The service builds every id and every field it
 * knows; a store fills in only what it alone knows (the superseded token's id, the verified token's
 * beneficiary and channel, a counter's count), following the rules written on each step.
 *
 * @module
 */

import { argObject } from "../_internal/args.js";
import { InvalidArgumentError } from "../errors.js";
import type { TokenEvent } from "./events.js";
import type { AppSecretRecord, AttemptInput, AttemptResult, NewToken, TokenStore } from "./store.js";

/** A fixed-window counter a step checks and takes one hit of (see {@link TokenStore.increment}). */
export interface StepCounter {
  /** The counter's key (one of `rateLimitKeys`). */
  readonly key: string;
  /** The most hits a window holds: a step that finds `count >= max` is refused. */
  readonly max: number;
  /** The length of a window that starts with this hit (ms). */
  readonly windowMs: number;
}

/** What {@link TokenStoreSteps.issueStep} is asked to do. */
export interface IssueStepInput {
  /** The token to save, exactly as {@link TokenStore.save} takes it. */
  readonly token: NewToken;
  /** The beneficiary's failures counter: read only; refused `locked_out` when its count is `>= max`. */
  readonly failures: StepCounter;
  /** The guide's resend cooldown (`max` 1): refused `cooldown` when a window is live; absent when there is none. */
  readonly cooldown?: StepCounter | undefined;
  /** The guide's sends: refused `sends_per_guide` when its count is `>= max`. */
  readonly sends: StepCounter;
  /**
   * The `token.revoked` event appended for a token the save superseded, complete but for its `tokenId` (the
   * superseded token's id). A conforming store supersedes at most one token per save; were there more, the
   * n-th (from 1) gets the id `<id>.<n>`.
   */
  readonly revokedEvent: Omit<TokenEvent, "tokenId">;
  /** The events of the issue (`token.issued`, and a guardian's copy), complete, appended after the revocations. */
  readonly issuedEvents: readonly TokenEvent[];
}

/**
 * The outcome of an {@link TokenStoreSteps.issueStep}. The checks run in this order, first refusal wins, and a
 * refused step changes nothing: the beneficiary's failures (`locked_out`), the guide's cooldown
 * (`cooldown`), the guide's sends (`sends_per_guide`); `resetAtMs` is the end of the window that refused.
 * Otherwise one hit is taken on the cooldown (when given) and on the sends, the token is saved as
 * {@link TokenStore.save} does, and the events are appended: the revocations, then `issuedEvents`.
 */
export type IssueStepResult =
  | {
      readonly outcome: "saved";
      /** The ids of the tokens the save superseded (as {@link TokenStore.save} returns them). */
      readonly superseded: readonly string[];
      /** Every event appended, in order. */
      readonly events: readonly TokenEvent[];
    }
  | { readonly outcome: "locked_out" | "cooldown" | "sends_per_guide"; readonly resetAtMs: number };

/** What {@link TokenStoreSteps.verifyStep} is asked to do. */
export interface VerifyStepInput extends AttemptInput {
  /**
   * The window of the beneficiary's failures counter, whose key is `rateLimitKeys.failures(beneficiaryId)`
   * of the token tried (only the store knows it before the attempt); one hit on `mismatch`.
   */
  readonly failureWindowMs: number;
  /** The presenting provider's counter: one hit on `wrong_provider`. */
  readonly providerFailures: { readonly key: string; readonly windowMs: number };
  /** The ids of the events the step may append: the first for the result, the second for `token.locked`. */
  readonly eventIds: readonly [string, string];
}

/**
 * The outcome of a {@link TokenStoreSteps.verifyStep}: the attempt, exactly as {@link TokenStore.attempt} would
 * answer it, and the events appended with it (`verifyStepEvents` states them):
 * - `not_found`: none;
 * - `ok`: `token.verified`;
 * - `mismatch` (one hit on the beneficiary's failures) and `wrong_provider` (one hit on the provider's
 *   counter, whose count goes in the event as `providerFailures`): `token.rejected` with `attemptsLeft`, then
 *   `token.locked` when `attemptsLeft` is 0;
 * - any other outcome: `token.rejected` with the outcome as its reason.
 */
export interface VerifyStepResult {
  /** The attempt's outcome. */
  readonly attempt: AttemptResult;
  /** Every event appended, in order. */
  readonly events: readonly TokenEvent[];
}

/** What {@link TokenStoreSteps.appVerifyBegin} is asked to do before an app code is compared. */
export interface AppVerifyBeginInput {
  /** The beneficiary whose app generated the code. */
  readonly beneficiaryId: string;
  /** The current time (ms). */
  readonly nowMs: number;
  /** The beneficiary's failures counter: one unit is reserved (a hit, taken back when it went past `max`). */
  readonly failures: StepCounter;
  /** The app attempts of this guide by this beneficiary: one hit, refused past `max` (the unit then goes back). */
  readonly attempts: StepCounter;
  /** The `token.rejected` (`locked`) event appended when either counter refuses. */
  readonly lockedEvent: TokenEvent;
}

/**
 * The outcome of {@link TokenStoreSteps.appVerifyBegin}:
 * - `locked`: the budget or the guide's attempts were spent; nothing is kept reserved; `lockedEvent` appended;
 * - `not_found`: no app secret; nothing is kept reserved, no event;
 * - `compare`: one failure unit is reserved, `attempts` is the guide's count after this hit, and the secret is
 *   returned for the service to compare; {@link TokenStoreSteps.appVerifyFinish} settles the unit.
 */
export type AppVerifyBeginResult =
  | { readonly outcome: "locked"; readonly events: readonly TokenEvent[] }
  | { readonly outcome: "not_found" }
  | { readonly outcome: "compare"; readonly attempts: number; readonly secret: AppSecretRecord };

/** What {@link TokenStoreSteps.appVerifyFinish} is asked to do once the code was compared. */
export type AppVerifyFinishInput = { readonly nowMs: number } & (
  | {
      /** The code matched no step: the reserved unit stays charged. */
      readonly matched: false;
      /** The beneficiary's failures counter the unit was reserved on. */
      readonly failuresKey: string;
      /** `token.rejected` (`mismatch`), and `token.locked` when no attempt is left. */
      readonly events: readonly TokenEvent[];
    }
  | {
      /** The code matched a step: the unit is given back and the step claimed (see {@link TokenStore.claimOnce}). */
      readonly matched: true;
      /** The beneficiary's failures counter the unit was reserved on. */
      readonly failuresKey: string;
      /** The step's claim. */
      readonly claim: { readonly key: string; readonly expiresAtMs: number };
      /** Appended when the claim is the first: `token.verified`. */
      readonly verifiedEvent: TokenEvent;
      /** Appended when the step was claimed before (a replay): `token.rejected` (`consumed`). */
      readonly replayedEvent: TokenEvent;
    }
);

/** The outcome of {@link TokenStoreSteps.appVerifyFinish}. */
export interface AppVerifyFinishResult {
  /** For a match: whether this was the step's first claim. `false` for a mismatch. */
  readonly first: boolean;
  /** Every event appended, in order. */
  readonly events: readonly TokenEvent[];
}

/**
 * The optional intent-level operations. Each is one atomic round trip on a store that has it (a Lua script;
 * one SQL statement; one synchronous section in memory), with the same outcome and the same events as the
 * service's composition of the fine-grained methods. A store may implement any of them; the service uses
 * each one that is present. The time of a step is its input's `nowMs` (the token's `issuedAtMs` for an
 * issue); a store never reads the clock to decide.
 *
 * @example
 * ```ts
 * // a store with the fine-grained methods only is a complete TokenStore;
 * // one that also answers issueStep and verifyStep saves the service several round trips per call
 * class MyStore implements TokenStore, TokenStoreSteps {
 *   async verifyStep(input: VerifyStepInput): Promise<VerifyStepResult> {
 *     return this.db.transaction(async (tx) => {
 *       const attempt = await tx.attempt(input);
 *       const events = verifyStepEvents(input, attempt, await tx.chargeFailure(input, attempt));
 *       await tx.appendEvents(events);
 *       return { attempt, events };
 *     });
 *   }
 *   // …
 * }
 * ```
 */
export interface TokenStoreSteps {
  /** The limits of an issue, the save that supersedes, and the issue's events, in one atomic step. */
  issueStep?(input: IssueStepInput): Promise<IssueStepResult>;
  /** The attempt, the failure counters, the lock and the verification's events, in one atomic step. */
  verifyStep?(input: VerifyStepInput): Promise<VerifyStepResult>;
  /** The app-mode budget reservation, the guide's app attempts and the secret, in one atomic step. */
  appVerifyBegin?(input: AppVerifyBeginInput): Promise<AppVerifyBeginResult>;
  /** The settlement of an app-mode reservation, the step's claim and the events, in one atomic step. */
  appVerifyFinish?(input: AppVerifyFinishInput): Promise<AppVerifyFinishResult>;
}

/**
 * The events of a verification step, as the service and every store build them: for `ok` a
 * `token.verified`; for `mismatch` and `wrong_provider` a `token.rejected` with `attemptsLeft` (and, for
 * `wrong_provider`, `providerFailures`: the provider counter's count after its hit), then a `token.locked`
 * when no attempt is left; for the other outcomes a `token.rejected` with the outcome as its reason; for
 * `not_found` none. The fields are those of the token tried: its beneficiary, token id and channel, with the
 * input's guide and provider.
 *
 * @example
 * ```ts
 * const attempt = await store.attempt(input);
 * const events = verifyStepEvents(input, attempt, providerCount);
 * for (const event of events) await store.appendEvent(event);
 * ```
 */
export function verifyStepEvents(
  input: Pick<VerifyStepInput, "guideId" | "providerId" | "nowMs" | "eventIds">,
  attempt: AttemptResult,
  providerFailures?: number | undefined,
): TokenEvent[] {
  argObject(input, "input");
  argObject(attempt, "attempt");
  if (!Array.isArray(input.eventIds))
    throw new InvalidArgumentError("input.eventIds must be an array of two ids");
  if (attempt.outcome === "not_found") return [];
  const token = attempt.token;
  argObject(token, "attempt.token");
  const base = {
    id: input.eventIds[0],
    atMs: input.nowMs,
    beneficiaryId: token.beneficiaryId,
    guideId: input.guideId,
    providerId: input.providerId,
    tokenId: token.tokenId,
    channel: token.channel,
  } as const;
  if (attempt.outcome === "ok") {
    // The common case, as one literal (the same fields and order as the spread below).
    return [
      {
        id: base.id,
        atMs: base.atMs,
        beneficiaryId: base.beneficiaryId,
        guideId: base.guideId,
        providerId: base.providerId,
        tokenId: base.tokenId,
        channel: base.channel,
        type: "token.verified",
      },
    ];
  }
  if (attempt.outcome === "mismatch" || attempt.outcome === "wrong_provider") {
    const rejected: TokenEvent = {
      ...base,
      type: "token.rejected",
      reason: attempt.outcome,
      attemptsLeft: attempt.attemptsLeft,
      ...(attempt.outcome === "wrong_provider" && providerFailures !== undefined ? { providerFailures } : {}),
    };
    if (attempt.attemptsLeft !== 0) return [rejected];
    return [rejected, { ...base, id: input.eventIds[1], type: "token.locked", reason: attempt.outcome }];
  }
  return [{ ...base, type: "token.rejected", reason: attempt.outcome }];
}
