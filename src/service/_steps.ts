/**
 * The intent-level steps of the store port, run on the store's own step when it has one, or composed here from
 * the fine-grained methods (same outcomes, same events; not atomic across the calls, as before steps existed).
 *
 * @module
 */
import { rateLimitKeys, takeIssueLimits } from "../policy/rate-limit.js";
import type { TokenEvent } from "../ports/events.js";
import type { TokenStore } from "../ports/store.js";
import {
  type AppVerifyBeginInput,
  type AppVerifyBeginResult,
  type AppVerifyFinishInput,
  type AppVerifyFinishResult,
  type IssueStepInput,
  type IssueStepResult,
  type TokenStoreSteps,
  type VerifyStepInput,
  type VerifyStepResult,
  verifyStepEvents,
} from "../ports/store-steps.js";

/** A store, with whichever steps it has. */
export type SteppingStore = TokenStore & TokenStoreSteps;

async function appendAll(store: TokenStore, events: readonly TokenEvent[]): Promise<void> {
  for (const event of events) await store.appendEvent(event);
}

/** The revocation events of a save, per the rule of {@link IssueStepInput.revokedEvent}. */
export function revokedEvents(input: IssueStepInput, superseded: readonly string[]): TokenEvent[] {
  return superseded.map((tokenId, i) => ({
    ...input.revokedEvent,
    ...(i === 0 ? {} : { id: `${input.revokedEvent.id}.${i}` }),
    tokenId,
  }));
}

/** {@link TokenStoreSteps.issueStep}, on the store's step or composed. */
export async function runIssueStep(store: SteppingStore, input: IssueStepInput): Promise<IssueStepResult> {
  if (typeof store.issueStep === "function") return store.issueStep(input);
  const refusal = await takeIssueLimits(store, input, input.token.issuedAtMs);
  if (refusal) return refusal;
  const { superseded } = await store.save(input.token);
  const events = [...revokedEvents(input, superseded), ...input.issuedEvents];
  await appendAll(store, events);
  return { outcome: "saved", superseded, events };
}

/** {@link TokenStoreSteps.verifyStep}, on the store's step or composed. */
export async function runVerifyStep(store: SteppingStore, input: VerifyStepInput): Promise<VerifyStepResult> {
  if (typeof store.verifyStep === "function") return store.verifyStep(input);
  const { guideId, providerId, candidateHash, nowMs } = input;
  const attempt = await store.attempt({ guideId, providerId, candidateHash, nowMs });
  let providerFailures: number | undefined;
  if (attempt.outcome === "mismatch") {
    await store.increment(rateLimitKeys.failures(attempt.token.beneficiaryId), input.failureWindowMs, nowMs);
  } else if (attempt.outcome === "wrong_provider") {
    const counter = input.providerFailures;
    providerFailures = (await store.increment(counter.key, counter.windowMs, nowMs)).count;
  }
  const events = verifyStepEvents(input, attempt, providerFailures);
  await appendAll(store, events);
  return { attempt, events };
}

/** {@link TokenStoreSteps.appVerifyBegin}, on the store's step or composed. */
export async function runAppVerifyBegin(
  store: SteppingStore,
  input: AppVerifyBeginInput,
): Promise<AppVerifyBeginResult> {
  if (typeof store.appVerifyBegin === "function") return store.appVerifyBegin(input);
  const { failures, attempts, nowMs } = input;
  const locked = async (): Promise<AppVerifyBeginResult> => {
    await store.appendEvent(input.lockedEvent);
    return { outcome: "locked", events: [input.lockedEvent] };
  };
  const budget = await store.increment(failures.key, failures.windowMs, nowMs);
  if (budget.count > failures.max) {
    await store.decrement(failures.key, nowMs);
    return locked();
  }
  let reserved = true;
  try {
    const count = await store.increment(attempts.key, attempts.windowMs, nowMs);
    if (count.count > attempts.max) return await locked();
    const secret = await store.getAppSecret(input.beneficiaryId);
    if (!secret) return { outcome: "not_found" };
    reserved = false; // the caller settles it
    return { outcome: "compare", attempts: count.count, secret };
  } finally {
    if (reserved) await store.decrement(failures.key, nowMs).catch(() => {});
  }
}

/** {@link TokenStoreSteps.appVerifyFinish}, on the store's step or composed. */
export async function runAppVerifyFinish(
  store: SteppingStore,
  input: AppVerifyFinishInput,
): Promise<AppVerifyFinishResult> {
  if (typeof store.appVerifyFinish === "function") return store.appVerifyFinish(input);
  const { nowMs } = input;
  if (!input.matched) {
    await appendAll(store, input.events);
    return { first: false, events: input.events };
  }
  const first = await store.claimOnce(input.claim.key, input.claim.expiresAtMs, nowMs);
  await store.decrement(input.failuresKey, nowMs);
  const event = first ? input.verifiedEvent : input.replayedEvent;
  await store.appendEvent(event);
  return { first, events: [event] };
}
