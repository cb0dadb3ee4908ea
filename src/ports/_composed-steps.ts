/**
 * The intent-level steps of the store port composed from the fine-grained methods: the reference semantics of
 * each step (same outcomes, same events; not atomic across the calls). The service runs them for a store
 * without the step; a store may fall back to them where its own step cannot apply.
 *
 * @module
 */
import { rateLimitKeys, takeIssueLimits } from "../policy/rate-limit.js";
import type { TokenEvent } from "./events.js";
import type { TokenStore } from "./store.js";
import {
  type AppVerifyBeginInput,
  type AppVerifyBeginResult,
  type AppVerifyFinishInput,
  type AppVerifyFinishResult,
  type IssueStepInput,
  type IssueStepResult,
  type VerifyStepInput,
  type VerifyStepResult,
  verifyStepEvents,
} from "./store-steps.js";

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

/** {@link TokenStoreSteps.issueStep}, composed from the fine-grained methods. */
export async function composeIssueStep(store: TokenStore, input: IssueStepInput): Promise<IssueStepResult> {
  const refusal = await takeIssueLimits(store, input, input.token.issuedAtMs);
  if (refusal) return refusal;
  const { superseded } = await store.save(input.token);
  const events = [...revokedEvents(input, superseded), ...input.issuedEvents];
  await appendAll(store, events);
  return { outcome: "saved", superseded, events };
}

/** {@link TokenStoreSteps.verifyStep}, composed from the fine-grained methods. */
export async function composeVerifyStep(
  store: TokenStore,
  input: VerifyStepInput,
): Promise<VerifyStepResult> {
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

/** {@link TokenStoreSteps.appVerifyBegin}, composed from the fine-grained methods. */
export async function composeAppVerifyBegin(
  store: TokenStore,
  input: AppVerifyBeginInput,
): Promise<AppVerifyBeginResult> {
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

/** {@link TokenStoreSteps.appVerifyFinish}, composed from the fine-grained methods. */
export async function composeAppVerifyFinish(
  store: TokenStore,
  input: AppVerifyFinishInput,
): Promise<AppVerifyFinishResult> {
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
