/**
 * The conformance cases of the optional intent-level steps (`issueStep`, `verifyStep`, `appVerifyBegin`,
 * `appVerifyFinish`): each step a store has must give the outcome, the state and the events of the service's
 * composition of the fine-grained methods, and decide races as the fine-grained methods do. On a store without
 * a step, the same cases check the service's composition of its fine-grained methods.
 *
 * @module
 */

import { argObject } from "../_internal/args.js";
import { rateLimitKeys } from "../policy/rate-limit.js";
import type { TokenEvent } from "../ports/events.js";
import type { NewToken, TokenStore } from "../ports/store.js";
import type {
  AppVerifyBeginInput,
  IssueStepInput,
  TokenStoreSteps,
  VerifyStepInput,
} from "../ports/store-steps.js";
import { runAppVerifyBegin, runAppVerifyFinish, runIssueStep, runVerifyStep } from "../service/_steps.js";
import { STORE_OPERATIONS } from "./_store-operations.js";
import { conformanceExpect as expect } from "./expect.js";

/** What a step case is given by the kit. */
export interface StepHarness {
  /** The store under test. */
  readonly store: TokenStore & TokenStoreSteps;
  /** Another store of the same kind in a namespace of its own (for the composed form). */
  readonly other: () => Promise<TokenStore>;
  /** `count` stores sharing the store's namespace. */
  readonly stores: (count: number) => Promise<Array<TokenStore & TokenStoreSteps>>;
}

/** Declares one case (the kit's `it`, with skip handling). */
export type StepCaseDeclarer = (
  title: string,
  body: (h: StepHarness) => Promise<void>,
  timeoutMs?: number,
) => void;

const T0 = 1_790_000_000_000;
const MINUTE = 60_000;
const WINDOW = 24 * 60 * MINUTE;

/**
 * The store with only its fine-grained methods: a service given it composes every step, as it does for a
 * store that has none. For comparing a store's steps with the composed form.
 *
 * @example
 * ```ts
 * const composed = createTokenService({ store: withoutSteps(store), notifier, pepper });
 * ```
 */
export function withoutSteps(store: TokenStore): TokenStore {
  argObject(store, "store");
  const plain: Record<string, unknown> = {};
  for (const m of STORE_OPERATIONS) {
    const fn = store[m] as (...a: unknown[]) => unknown;
    plain[m] = (...args: unknown[]) => fn.apply(store, args);
  }
  return plain as unknown as TokenStore;
}

function stepToken(n: number, overrides: Partial<NewToken> = {}): NewToken {
  return {
    tokenId: `st-${n}`,
    guideId: "step-guide",
    providerId: "step-provider",
    beneficiaryId: "step-ben",
    codeHash: `h1:step-${n}`,
    issuedAtMs: T0 + n * MINUTE,
    expiresAtMs: T0 + (n + 30) * MINUTE,
    maxAttempts: 3,
    channel: "sms",
    ...overrides,
  };
}

function issueInput(t: NewToken, overrides: Partial<IssueStepInput> = {}): IssueStepInput {
  const base = { beneficiaryId: t.beneficiaryId, guideId: t.guideId, providerId: t.providerId } as const;
  return {
    token: t,
    failures: { key: rateLimitKeys.failures(t.beneficiaryId), max: 10, windowMs: WINDOW },
    cooldown: { key: rateLimitKeys.cooldown(t.guideId), max: 1, windowMs: MINUTE },
    sends: { key: rateLimitKeys.sends(t.guideId), max: 5, windowMs: 60 * MINUTE },
    revokedEvent: {
      id: `rv-${t.tokenId}`,
      atMs: t.issuedAtMs,
      ...base,
      type: "token.revoked",
      reason: "superseded",
    },
    issuedEvents: [
      { id: `is-${t.tokenId}`, atMs: t.issuedAtMs, ...base, type: "token.issued", tokenId: t.tokenId },
      {
        id: `ds-${t.tokenId}`,
        atMs: t.issuedAtMs,
        ...base,
        type: "token.delivery_started",
        tokenId: t.tokenId,
        deliveryId: `d-${t.tokenId}`,
        mode: "foreground",
        deadlineAtMs: t.issuedAtMs + 15_000,
      },
    ],
    ...overrides,
  };
}

function verifyInput(
  guideId: string,
  providerId: string,
  candidateHash: string,
  nowMs: number,
  n: number,
): VerifyStepInput {
  return {
    guideId,
    providerId,
    candidateHash,
    nowMs,
    failureWindowMs: WINDOW,
    providerFailures: { key: rateLimitKeys.providerFailures(providerId), windowMs: WINDOW },
    eventIds: [`v-${n}-a`, `v-${n}-b`],
  };
}

/** The state a scenario leaves: what the kit compares between the two forms. */
async function snapshot(store: TokenStore, nowMs: number, guideIds: readonly string[]) {
  const counters: Record<string, unknown> = {};
  const keys = [
    rateLimitKeys.failures("step-ben"),
    rateLimitKeys.providerFailures("step-provider"),
    rateLimitKeys.providerFailures("intruder"),
    rateLimitKeys.cooldown("step-guide"),
    rateLimitKeys.sends("step-guide"),
    rateLimitKeys.appAttempts("app-guide", "step-ben"),
  ];
  for (const key of keys) counters[key] = await store.peek(key, nowMs);
  const tokens: Record<string, unknown> = {};
  for (const g of guideIds) tokens[g] = await store.get(g);
  const events = await store.listEvents("step-ben", { limit: 1000 });
  return { counters, tokens, events };
}

/** A scripted verification story, run on one store through the steps (`runVerifyStep` picks the form). */
async function verifyStory(store: TokenStore & TokenStoreSteps): Promise<unknown[]> {
  const results: unknown[] = [];
  let n = 0;
  const v = async (guideId: string, providerId: string, hash: string, nowMs: number) => {
    results.push(await runVerifyStep(store, verifyInput(guideId, providerId, hash, nowMs, n++)));
  };
  // a token, superseded by a second one; the first code arrives late
  await runIssueStep(store, issueInput(stepToken(0)));
  await runIssueStep(store, issueInput(stepToken(2)));
  await v("step-guide", "step-provider", "h1:step-0", T0 + 3 * MINUTE); // superseded
  await v("step-guide", "intruder", "h1:step-2", T0 + 3 * MINUTE); // wrong_provider
  await v("step-guide", "step-provider", "h1:nope", T0 + 3 * MINUTE); // mismatch, 1 left
  await v("step-guide", "step-provider", "h1:nope", T0 + 3 * MINUTE); // mismatch, locked
  await v("step-guide", "step-provider", "h1:step-2", T0 + 3 * MINUTE); // locked
  // another guide: ok, then consumed; another: expired; another: never issued
  await runIssueStep(store, issueInput(stepToken(4, { guideId: "g-ok" })));
  await v("g-ok", "step-provider", "h1:step-4", T0 + 5 * MINUTE); // ok
  await v("g-ok", "step-provider", "h1:step-4", T0 + 6 * MINUTE); // consumed
  await runIssueStep(store, issueInput(stepToken(5, { guideId: "g-exp", channel: "whatsapp" })));
  await v("g-exp", "step-provider", "h1:step-5", T0 + 35 * MINUTE); // expired
  await v("g-none", "step-provider", "h1:x", T0 + 35 * MINUTE); // not_found
  return results;
}

/** Declares the step cases. */
export function declareStepCases(it: StepCaseDeclarer, concurrency: number): void {
  it("issueStep saves, supersedes and appends the revocation then the issue's events", async ({ store }) => {
    const first = stepToken(0);
    const r1 = await runIssueStep(store, issueInput(first));
    const i1 = issueInput(first);
    expect(r1, "first issueStep").toEqual({ outcome: "saved", superseded: [], events: i1.issuedEvents });
    const second = stepToken(2);
    const i2 = issueInput(second);
    const r2 = await runIssueStep(store, i2);
    const revoked: TokenEvent = { ...i2.revokedEvent, tokenId: first.tokenId };
    expect(r2, "second issueStep").toEqual({
      outcome: "saved",
      superseded: [first.tokenId],
      events: [revoked, ...i2.issuedEvents],
    });
    expect(await store.get(second.guideId), "token after the second issueStep").toEqual({
      ...second,
      attempts: 0,
      status: "active",
    });
    const history = await store.listEvents("step-ben", { limit: 10 });
    expect(
      history.map((e) => e.id),
      "history, newest first",
    ).toEqual([...i1.issuedEvents, revoked, ...i2.issuedEvents].map((e) => e.id).reverse());
    expect(history[0], "the last event as stored").toEqual(i2.issuedEvents[1]);
    expect(await store.peek(i2.sends.key, second.issuedAtMs), "sends after two issues").toEqual({
      count: 2,
      resetAtMs: first.issuedAtMs + 60 * MINUTE,
    });
  });

  it("issueStep refuses in order (locked_out, cooldown, sends_per_guide) and a refusal changes nothing", async ({
    store,
  }) => {
    const t = stepToken(0);
    const ben = rateLimitKeys.failures(t.beneficiaryId);
    for (let i = 0; i < 2; i++) await store.increment(ben, WINDOW, T0 - MINUTE);
    await store.increment(rateLimitKeys.cooldown(t.guideId), MINUTE, T0 - 1000);
    const before = await snapshot(store, T0, [t.guideId]);
    const tight = { key: ben, max: 2, windowMs: WINDOW };
    expect(await runIssueStep(store, issueInput(t, { failures: tight })), "refused by the lockout").toEqual({
      outcome: "locked_out",
      resetAtMs: T0 - MINUTE + WINDOW,
    });
    expect(await runIssueStep(store, issueInput(t)), "refused by the cooldown").toEqual({
      outcome: "cooldown",
      resetAtMs: T0 - 1000 + MINUTE,
    });
    const full = { key: rateLimitKeys.sends(t.guideId), max: 0, windowMs: 60 * MINUTE };
    expect(
      await runIssueStep(store, issueInput(t, { cooldown: undefined, sends: full })),
      "refused by the sends (no window yet)",
    ).toEqual({ outcome: "sends_per_guide", resetAtMs: 0 });
    expect(await snapshot(store, T0, [t.guideId]), "state after three refusals").toEqual(before);
    // once the cooldown's window ends, the same issue goes through
    const later = stepToken(1);
    expect((await runIssueStep(store, issueInput(later))).outcome, "issue after the cooldown").toBe("saved");
  });

  it("issueStep gives the composed form's outcomes, state and events", async ({ store, other }) => {
    const composed = withoutSteps(await other());
    const story = async (s: TokenStore & TokenStoreSteps) => {
      const out: unknown[] = [];
      out.push(await runIssueStep(s, issueInput(stepToken(0))));
      out.push(await runIssueStep(s, issueInput(stepToken(0, { tokenId: "st-0b" })))); // cooldown
      out.push(await runIssueStep(s, issueInput(stepToken(2))));
      out.push(await runIssueStep(s, issueInput(stepToken(3, { guideId: "g-2" }), { cooldown: undefined })));
      return { out, state: await snapshot(s, T0 + 4 * MINUTE, ["step-guide", "g-2"]) };
    };
    expect(await story(store), "issueStep against the composed fine-grained methods").toEqual(
      await story(composed),
    );
  });

  it("verifyStep gives the composed form's outcomes, counters and events", async ({ store, other }) => {
    const composed = withoutSteps(await other());
    const guides = ["step-guide", "g-ok", "g-exp", "g-none"];
    const mine = await verifyStory(store);
    const theirs = await verifyStory(composed);
    expect(mine, "verifyStep results against the composed fine-grained methods").toEqual(theirs);
    expect(await snapshot(store, T0 + 36 * MINUTE, guides), "state after the story").toEqual(
      await snapshot(composed, T0 + 36 * MINUTE, guides),
    );
  });

  it("verifyStep: of concurrent correct attempts exactly one is ok, with one token.verified", async ({
    stores,
  }) => {
    const all = await stores(4);
    const t = stepToken(0, { maxAttempts: 1000 });
    await all[0]!.save(t);
    const results = await Promise.all(
      Array.from({ length: concurrency }, (_, i) =>
        runVerifyStep(all[i % all.length]!, verifyInput(t.guideId, t.providerId, t.codeHash, T0 + MINUTE, i)),
      ),
    );
    const among = `among ${concurrency} concurrent correct verifySteps`;
    expect(results.filter((r) => r.attempt.outcome === "ok").length, `ok results ${among}`).toBe(1);
    expect(results.filter((r) => r.attempt.outcome === "consumed").length, `consumed results ${among}`).toBe(
      concurrency - 1,
    );
    const history = await all[0]!.listEvents("step-ben", { limit: 1000 });
    expect(history.filter((e) => e.type === "token.verified").length, `token.verified events ${among}`).toBe(
      1,
    );
    expect(history.length, `events ${among}`).toBe(concurrency);
  });

  it("issueStep: of concurrent issues for a guide, the cooldown lets exactly one through", async ({
    stores,
  }) => {
    const all = await stores(4);
    const results = await Promise.all(
      Array.from({ length: 24 }, (_, i) =>
        runIssueStep(all[i % all.length]!, issueInput(stepToken(0, { tokenId: `race-${i}` }))),
      ),
    );
    const saved = results.filter((r) => r.outcome === "saved");
    expect(saved.length, "saved among 24 concurrent issues under a cooldown").toBe(1);
    expect(results.filter((r) => r.outcome === "cooldown").length, "cooldown refusals among 24").toBe(23);
    const history = await all[0]!.listEvents("step-ben", { limit: 1000 });
    expect(history.length, "events after 24 concurrent issues (one saved)").toBe(2);
    expect(await all[0]!.peek(rateLimitKeys.sends("step-guide"), T0), "sends taken by the race").toEqual({
      count: 1,
      resetAtMs: T0 + 60 * MINUTE,
    });
  });

  const appBegin = (overrides: Partial<AppVerifyBeginInput> = {}): AppVerifyBeginInput => ({
    beneficiaryId: "step-ben",
    nowMs: T0,
    failures: { key: rateLimitKeys.failures("step-ben"), max: 3, windowMs: WINDOW },
    attempts: { key: rateLimitKeys.appAttempts("app-guide", "step-ben"), max: 3, windowMs: 30 * MINUTE },
    lockedEvent: {
      id: "app-locked",
      atMs: T0,
      type: "token.rejected",
      beneficiaryId: "step-ben",
      guideId: "app-guide",
      providerId: "step-provider",
      channel: "app",
      reason: "locked",
    },
    ...overrides,
  });

  it("appVerifyBegin and appVerifyFinish give the composed form's outcomes, counters and events", async ({
    store,
    other,
  }) => {
    const composed = withoutSteps(await other());
    const story = async (s: TokenStore & TokenStoreSteps) => {
      const out: unknown[] = [];
      const failuresKey = rateLimitKeys.failures("step-ben");
      out.push(await runAppVerifyBegin(s, appBegin())); // not_found (no secret yet): attempts 1, nothing reserved
      await s.putAppSecret({ beneficiaryId: "step-ben", keyId: "k1", ciphertext: "c1", createdAtMs: T0 });
      const { reason: _locked, ...appEvent } = appBegin().lockedEvent;
      const ev = (id: string, fields: Partial<TokenEvent>): TokenEvent => ({
        ...appEvent,
        reason: "locked",
        id,
        ...fields,
      });
      out.push(await runAppVerifyBegin(s, appBegin({ lockedEvent: ev("l1", {}) }))); // compare: attempts 2, one unit reserved
      out.push(
        await runAppVerifyFinish(s, {
          matched: false,
          nowMs: T0,
          failuresKey,
          events: [ev("m1", { reason: "mismatch", attemptsLeft: 1 })],
        }),
      );
      out.push(await runAppVerifyBegin(s, appBegin({ lockedEvent: ev("l2", {}) }))); // compare: attempts 3
      const claim = { key: rateLimitKeys.totpStep("step-ben", 5_966_666), expiresAtMs: T0 + 10 * MINUTE };
      const match = {
        matched: true as const,
        nowMs: T0,
        failuresKey,
        claim,
        verifiedEvent: { ...appEvent, id: "ok1", type: "token.verified" as const, tokenId: "totp-5966666" },
        replayedEvent: ev("rp1", { tokenId: "totp-5966666", reason: "consumed" }),
      };
      out.push(await runAppVerifyFinish(s, match)); // the step's first claim: the unit goes back
      out.push(await runAppVerifyBegin(s, appBegin({ lockedEvent: ev("l3", {}) }))); // locked: attempts 4 of 3
      out.push(
        await runAppVerifyBegin(
          s,
          appBegin({
            attempts: {
              key: rateLimitKeys.appAttempts("app-guide-2", "step-ben"),
              max: 2,
              windowMs: 30 * MINUTE,
            },
            lockedEvent: ev("l4", {}),
          }),
        ),
      ); // compare on another guide
      out.push(
        await runAppVerifyFinish(s, {
          ...match,
          verifiedEvent: ev("ok2", {}),
          replayedEvent: ev("rp2", { reason: "consumed" }),
        }),
      ); // replay
      // one wrong guess is charged; two more spend the budget of 3
      await s.increment(failuresKey, WINDOW, T0);
      await s.increment(failuresKey, WINDOW, T0);
      out.push(
        await runAppVerifyBegin(
          s,
          appBegin({
            attempts: {
              key: rateLimitKeys.appAttempts("app-guide-3", "step-ben"),
              max: 2,
              windowMs: 30 * MINUTE,
            },
            lockedEvent: ev("l5", {}),
          }),
        ),
      ); // locked: the budget
      return { out, state: await snapshot(s, T0, []) };
    };
    expect(await story(store), "app steps against the composed fine-grained methods").toEqual(
      await story(composed),
    );
  });

  it("appVerifyBegin: of a burst spread over guides, at most the budget's remainder is compared", async ({
    stores,
  }) => {
    const all = await stores(4);
    await all[0]!.putAppSecret({ beneficiaryId: "step-ben", keyId: "k1", ciphertext: "c1", createdAtMs: T0 });
    const burst = 60;
    const results = await Promise.all(
      Array.from({ length: burst }, (_, i) =>
        runAppVerifyBegin(
          all[i % all.length]!,
          appBegin({
            failures: { key: rateLimitKeys.failures("step-ben"), max: 10, windowMs: WINDOW },
            attempts: {
              key: rateLimitKeys.appAttempts(`burst-${i}`, "step-ben"),
              max: 5,
              windowMs: 30 * MINUTE,
            },
            lockedEvent: { ...appBegin().lockedEvent, id: `burst-locked-${i}` },
          }),
        ),
      ),
    );
    const among = `among ${burst} concurrent appVerifyBegin over ${burst} guides with a budget of 10`;
    expect(results.filter((r) => r.outcome === "compare").length, `compare results ${among}`).toBe(10);
    expect(results.filter((r) => r.outcome === "locked").length, `locked results ${among}`).toBe(burst - 10);
    expect(await all[0]!.peek(rateLimitKeys.failures("step-ben"), T0), `budget ${among}`).toEqual({
      count: 10,
      resetAtMs: T0 + WINDOW,
    });
  });
}
