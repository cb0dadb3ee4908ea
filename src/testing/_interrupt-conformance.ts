/**
 * The conformance cases of an interrupted step: a step whose connection is cut while it is in flight must leave
 * its state change and its events together, or neither. The adapter tells the kit how to cut
 * ({@link StepInterrupter}); the kit sets the state up, hands the step over, then reads the state back through
 * a healthy store and compares it with the state before the step and with the state the same step leaves when
 * nothing is cut (run on a second namespace).
 *
 * @module
 */

import { rateLimitKeys } from "../policy/rate-limit.js";
import type { TokenEvent } from "../ports/events.js";
import type { NewToken, TokenStore } from "../ports/store.js";
import type {
  AppVerifyBeginInput,
  AppVerifyFinishInput,
  IssueStepInput,
  TokenStoreSteps,
  VerifyStepInput,
} from "../ports/store-steps.js";
import { same, show } from "./_same.js";
import { ConformanceAssertionError, conformanceExpect as expect } from "./expect.js";

/** A step of {@link TokenStoreSteps} that the kit interrupts. */
export type InterruptedStep = "issueStep" | "verifyStep" | "appVerifyBegin" | "appVerifyFinish";

/**
 * What the kit hands the {@link StepInterrupter} for one round of an interrupted-step case.
 *
 * @example
 * ```ts
 * const interrupt: StepInterrupter = async ({ namespace, round, run }) => {
 *   const victim = await openConnection();                  // a connection of its own, that can be cut
 *   const settled = run(new MyStore({ client: victim, prefix: namespace }));
 *   await cutAfter(victim, round);                          // a different point each round
 *   await settled;                                          // resolves once the step settled
 *   await victim.close();
 * };
 * ```
 */
export interface StepInterruptContext {
  /**
   * The case's namespace. Open the store that `run` is given on it, as `createStore` does, but over a
   * connection of its own: the one the hook cuts (the kit's other stores must stay healthy).
   */
  readonly namespace: string;
  /** The step that `run` starts, for a hook that picks where to cut by what the step writes. */
  readonly step: InterruptedStep;
  /** This round, from 0 to `rounds - 1`: cut at a different point each round. */
  readonly round: number;
  /** The rounds of the case (`capabilities.interruptRounds`, default 8). */
  readonly rounds: number;
  /**
   * Starts the step on `store` and resolves once the step has settled, fulfilled or rejected (the kit records
   * which); it never rejects. Call it once, then cut the store's connection while the step is in flight.
   */
  run(store: TokenStore): Promise<void>;
}

/**
 * The adapter's way to interrupt a step in flight (`runStoreConformance`'s `interrupt`): open a store of
 * `ctx.namespace` over a connection of its own, start the step with `ctx.run(store)`, cut that connection
 * while the step runs (at a point that varies with `ctx.round`), and resolve once the step has settled and
 * the connection is closed. Across the rounds, at least one step must be cut (it rejects) and at least one
 * must have taken effect (cut after its change, or not cut at all): the kit fails a hook that never cuts, and
 * one whose store does not reach the namespace's data.
 */
export type StepInterrupter = (ctx: StepInterruptContext) => Promise<void>;

/** What an interrupted-step case is given by the kit. */
export interface InterruptHarness {
  /** A healthy store of the case's namespace: sets the state up and reads it back. */
  readonly store: TokenStore & TokenStoreSteps;
  /** The case's namespace. */
  readonly namespace: string;
  /** A healthy store of another namespace, where the same steps run uncut (the reference). */
  readonly other: () => Promise<TokenStore & TokenStoreSteps>;
  /** The adapter's hook. */
  readonly interrupt: StepInterrupter;
  /** Rounds per case. */
  readonly rounds: number;
}

/** Declares one case (the kit's `it`, with skip handling). */
export type InterruptCaseDeclarer = (title: string, body: (h: InterruptHarness) => Promise<void>) => void;

const T0 = 1_790_000_000_000;
const MINUTE = 60_000;
const WINDOW = 24 * 60 * MINUTE;
const NOW = T0 + MINUTE;

/** One round: the state it starts from, the step it runs and what of the state it reads back. */
interface Round {
  /** What the round checks, for the failure message. */
  readonly label: string;
  /** Sets the state up, with the fine-grained methods. */
  setup(store: TokenStore): Promise<void>;
  /** The step, called on the store's own step. */
  call(store: TokenStore & TokenStoreSteps): Promise<unknown>;
  /** The parts of the state the step may change, read without changing them. */
  observe(store: TokenStore): Promise<Record<string, unknown>>;
  /** Parts that are read by changing them (a claim is read by taking it): read once the round is over. */
  probe?(store: TokenStore): Promise<Record<string, unknown>>;
}

/** The ids of a round: each round has its own guide, beneficiary and providers. */
function ids(round: number) {
  return {
    guideId: `ig${round}`,
    beneficiaryId: `ib${round}`,
    providerId: `ip${round}`,
    intruder: `iq${round}`,
  };
}

function roundToken(round: number, overrides: Partial<NewToken> = {}): NewToken {
  const { guideId, beneficiaryId, providerId } = ids(round);
  return {
    tokenId: `it${round}`,
    guideId,
    providerId,
    beneficiaryId,
    codeHash: `h1:it${round}`,
    issuedAtMs: T0,
    expiresAtMs: T0 + 30 * MINUTE,
    maxAttempts: 3,
    channel: "sms",
    ...overrides,
  };
}

/** Reads a token, a beneficiary's events and counters: the parts a step changes. */
async function parts(
  store: TokenStore,
  guideId: string | undefined,
  beneficiaryId: string,
  counters: readonly string[],
): Promise<Record<string, unknown>> {
  const out: Record<string, unknown> = {};
  if (guideId !== undefined) out.token = await store.get(guideId);
  out.events = await store.listEvents(beneficiaryId, { limit: 100 });
  for (const key of counters) out[`counter ${key}`] = await store.peek(key, NOW);
  return out;
}

function verifyRound(round: number, right: boolean): Round {
  const { guideId, beneficiaryId, providerId, intruder } = ids(round);
  const variant = right ? 0 : round % 3; // wrong: mismatch, mismatch that locks, wrong provider
  const presenting = variant === 2 ? intruder : providerId;
  const input: VerifyStepInput = {
    guideId,
    providerId: presenting,
    candidateHash: right ? `h1:it${round}` : "h1:wrong",
    nowMs: NOW,
    failureWindowMs: WINDOW,
    providerFailures: { key: rateLimitKeys.providerFailures(presenting), windowMs: WINDOW },
    eventIds: [`iv${round}a`, `iv${round}b`],
  };
  const counters = [rateLimitKeys.failures(beneficiaryId), rateLimitKeys.providerFailures(intruder)];
  return {
    label: right
      ? "right code: the token consumed <-> token.verified"
      : [
          "mismatch: the attempt counted <-> the beneficiary's failure <-> token.rejected",
          "mismatch on the last attempt: the lock <-> the failure <-> token.rejected and token.locked",
          "wrong provider: the attempt counted <-> the provider's counter <-> token.rejected",
        ][variant]!,
    setup: async (store) => {
      await store.save(roundToken(round));
      if (variant === 1) {
        for (let i = 0; i < 2; i++) {
          await store.attempt({ guideId, providerId, candidateHash: "h1:earlier", nowMs: T0 });
        }
      }
    },
    call: (store) => store.verifyStep!(input),
    observe: (store) => parts(store, guideId, beneficiaryId, counters),
  };
}

function issueRound(round: number): Round {
  const { guideId, beneficiaryId, providerId } = ids(round);
  const supersedes = round % 2 === 1;
  const t = roundToken(round, { tokenId: `in${round}`, codeHash: `h1:in${round}`, issuedAtMs: NOW });
  const base = { beneficiaryId, guideId, providerId } as const;
  const input: IssueStepInput = {
    token: t,
    failures: { key: rateLimitKeys.failures(beneficiaryId), max: 5, windowMs: WINDOW },
    cooldown: { key: rateLimitKeys.cooldown(guideId), max: 1, windowMs: MINUTE },
    sends: { key: rateLimitKeys.sends(guideId), max: 5, windowMs: 60 * MINUTE },
    revokedEvent: { id: `ir${round}`, atMs: NOW, ...base, type: "token.revoked", reason: "superseded" },
    issuedEvents: [
      { id: `ii${round}`, atMs: NOW, ...base, type: "token.issued", tokenId: t.tokenId },
      {
        id: `id${round}`,
        atMs: NOW,
        ...base,
        type: "token.delivery_started",
        tokenId: t.tokenId,
        deliveryId: `dl${round}`,
        mode: "foreground",
        deadlineAtMs: NOW + 15_000,
      },
    ],
  };
  const counters = [input.cooldown!.key, input.sends.key, input.failures.key];
  return {
    label: supersedes
      ? "over an active token: the new token saved <-> the hits <-> token.revoked, token.issued, token.delivery_started"
      : "the token saved <-> the cooldown's and the sends' hits <-> token.issued, token.delivery_started",
    setup: async (store) => {
      if (supersedes) await store.save(roundToken(round));
    },
    call: (store) => store.issueStep!(input),
    observe: (store) => parts(store, guideId, beneficiaryId, counters),
  };
}

function appBeginRound(round: number): Round {
  const { guideId, beneficiaryId, providerId } = ids(round);
  const locks = round % 2 === 1;
  const input: AppVerifyBeginInput = {
    beneficiaryId,
    nowMs: NOW,
    failures: { key: rateLimitKeys.failures(beneficiaryId), max: 3, windowMs: WINDOW },
    attempts: { key: rateLimitKeys.appAttempts(guideId, beneficiaryId), max: 2, windowMs: 30 * MINUTE },
    lockedEvent: {
      id: `il${round}`,
      atMs: NOW,
      type: "token.rejected",
      beneficiaryId,
      guideId,
      providerId,
      channel: "app",
      reason: "locked",
    },
  };
  return {
    label: locks
      ? "the guide's app attempts spent: the attempt counted <-> the unit given back <-> token.rejected (locked)"
      : "compare: the failure unit reserved <-> the guide's app attempt counted",
    setup: async (store) => {
      await store.putAppSecret({ beneficiaryId, keyId: "k1", ciphertext: "Y2lwaGVy", createdAtMs: T0 });
      if (locks) {
        for (let i = 0; i < 2; i++) await store.increment(input.attempts.key, input.attempts.windowMs, T0);
      }
    },
    call: (store) => store.appVerifyBegin!(input),
    observe: (store) => parts(store, undefined, beneficiaryId, [input.failures.key, input.attempts.key]),
  };
}

function appFinishRound(round: number): Round {
  const { guideId, beneficiaryId, providerId } = ids(round);
  const variant = round % 3; // a first match, a replay, a mismatch
  const failuresKey = rateLimitKeys.failures(beneficiaryId);
  const claim = { key: rateLimitKeys.totpStep(beneficiaryId, 5_966_667), expiresAtMs: NOW + 10 * MINUTE };
  const event = (id: string, fields: Partial<TokenEvent>): TokenEvent => ({
    id,
    atMs: NOW,
    type: "token.rejected",
    beneficiaryId,
    guideId,
    providerId,
    channel: "app",
    ...fields,
  });
  const input: AppVerifyFinishInput =
    variant === 2
      ? {
          matched: false,
          nowMs: NOW,
          failuresKey,
          events: [
            event(`im${round}`, { reason: "mismatch", attemptsLeft: 0 }),
            event(`ik${round}`, { type: "token.locked", reason: "mismatch" }),
          ],
        }
      : {
          matched: true,
          nowMs: NOW,
          failuresKey,
          claim,
          verifiedEvent: event(`iv${round}`, { type: "token.verified", tokenId: "totp-5966667" }),
          replayedEvent: event(`ip${round}`, { tokenId: "totp-5966667", reason: "consumed" }),
        };
  return {
    label: [
      "a match: the step claimed <-> the unit given back <-> token.verified",
      "a replay: the unit given back <-> token.rejected (consumed)",
      "a mismatch: token.rejected and token.locked, together",
    ][variant]!,
    setup: async (store) => {
      await store.increment(failuresKey, WINDOW, T0); // the unit appVerifyBegin reserved
      if (variant === 1) await store.claimOnce(claim.key, claim.expiresAtMs, T0);
    },
    call: (store) => store.appVerifyFinish!(input),
    observe: (store) => parts(store, undefined, beneficiaryId, [failuresKey]),
    probe: async (store) => ({ "claim taken": !(await store.claimOnce(claim.key, claim.expiresAtMs, NOW)) }),
  };
}

/** What a round's step did: its value, or what it threw. */
type Settled = { readonly value: unknown } | { readonly error: unknown };

async function settle(run: () => Promise<unknown>): Promise<Settled> {
  try {
    return { value: await run() };
  } catch (error) {
    return { error };
  }
}

/** Runs the rounds of one case. */
async function interruptRounds(h: InterruptHarness, step: InterruptedStep, make: (round: number) => Round) {
  if (typeof h.store[step] !== "function") {
    throw new ConformanceAssertionError(
      `the store has no ${step}: the service composes it from the fine-grained methods, which are not atomic ` +
        "together; implement the step, or skip this case with the reason (options.skip)",
      undefined,
      step,
    );
  }
  const reference = await h.other();
  let cut = 0;
  let tookEffect = 0;
  for (let round = 0; round < h.rounds; round++) {
    const r = make(round);
    const where = `round ${round} of ${h.rounds} (${step}, ${r.label})`;
    await r.setup(h.store);
    await r.setup(reference);
    const before = await r.observe(h.store);
    const uncut = await settle(() => r.call(reference));
    if ("error" in uncut) {
      throw new ConformanceAssertionError(
        `${where}: the step failed on a healthy connection: ${String(uncut.error)}`,
        uncut.error,
        undefined,
      );
    }
    const after = await r.observe(reference);
    const probed = await r.probe?.(reference);
    expect(same(before, after), `${where}: the uncut step leaves the state as it found it`).toBe(false);

    let calls = 0;
    let running: Promise<Settled> | undefined;
    let misuse: string | undefined;
    await h.interrupt({
      namespace: h.namespace,
      step,
      round,
      rounds: h.rounds,
      run: (store) => {
        calls++;
        if (calls > 1) {
          misuse = "called ctx.run more than once";
          return Promise.resolve();
        }
        if (typeof (store as TokenStore & TokenStoreSteps)[step] !== "function") {
          misuse = `gave ctx.run a store without ${step}`;
        }
        running = settle(() => r.call(store as TokenStore & TokenStoreSteps));
        return running.then(() => {});
      },
    });
    if (misuse !== undefined) throw new ConformanceAssertionError(`${where}: the hook ${misuse}`, calls, 1);
    if (running === undefined) {
      throw new ConformanceAssertionError(`${where}: the hook did not call ctx.run`, calls, 1);
    }
    const outcome = await running;
    const seen = await r.observe(h.store);
    const state = judge(where, before, after, seen);
    if ("error" in outcome) {
      cut++;
      const code = (outcome.error as { code?: unknown } | null)?.code;
      expect(code, `${where}: the code of the cut step's error (${String(outcome.error)})`).toBe(
        "STORE_UNAVAILABLE",
      );
    } else {
      expect(state, `${where}: the state after a step that answered`).toBe("after");
      expect(outcome.value, `${where}: what the step answered`).toEqual(uncut.value);
    }
    if (state === "after") {
      tookEffect++;
    } else {
      // nothing of the cut step is left behind: the same step, on a healthy connection, does all of it
      const again = await settle(() => r.call(h.store));
      const label = `${where}: nothing of the cut step is visible, so the same step run again on a healthy connection answers as the uncut one`;
      expect(again, label).toEqual(uncut);
      expect(await r.observe(h.store), `${where}: the state after the step ran again`).toEqual(after);
    }
    if (r.probe) expect(await r.probe(h.store), `${where}: at the end of the round`).toEqual(probed);
  }
  const rounds = `in ${h.rounds} rounds of ${step} (${cut} cut, ${tookEffect} took effect)`;
  expect(cut > 0, `the hook cut a step ${rounds} (a cut step rejects): it must cut while the step runs`).toBe(
    true,
  );
  expect(
    tookEffect > 0,
    `a step took effect ${rounds} (cut after its change, or not cut): does ctx.run get a store of ctx.namespace?`,
  ).toBe(true);
}

/** Whether `seen` is the state before the step or after it; throws, naming the parts, when it is neither. */
function judge(
  where: string,
  before: Record<string, unknown>,
  after: Record<string, unknown>,
  seen: Record<string, unknown>,
): "before" | "after" {
  if (same(seen, before)) return "before";
  if (same(seen, after)) return "after";
  const changing = Object.keys(after).filter((k) => !same(before[k], after[k]));
  const done = changing.filter((k) => same(seen[k], after[k]));
  const undone = changing.filter((k) => same(seen[k], before[k]));
  const neither = Object.keys(after).filter((k) => !same(seen[k], before[k]) && !same(seen[k], after[k]));
  const groups = [
    done.length > 0 ? `as the step leaves it: ${done.join(", ")}` : "",
    undone.length > 0 ? `as before the step: ${undone.join(", ")}` : "",
    neither.length > 0 ? `neither: ${neither.join(", ")}` : "",
  ].filter((g) => g !== "");
  const lines = [
    `${where}: half a step is left after the cut (${groups.join("; ")})`,
    ...Object.keys(after)
      .filter((k) => !same(before[k], after[k]) || !same(seen[k], before[k]))
      .map((k) => `${k}: before ${show(before[k])}, after ${show(after[k])}, seen ${show(seen[k])}`),
  ];
  throw new ConformanceAssertionError(lines.join("\n  "), seen, { before, after });
}

/** The titles of the interrupted-step cases, with the step each one interrupts. */
export const INTERRUPT_CASES = {
  verifyRight:
    "interrupted verifyStep, right code: the token consumed and token.verified together, or neither",
  verifyWrong:
    "interrupted verifyStep, wrong code: the attempt counted, its counter and token.rejected (token.locked) together, or none",
  issue: "interrupted issueStep: the token saved, the limits' hits and the issue's events together, or none",
  appBegin:
    "interrupted appVerifyBegin: the unit reserved, the guide's app attempt and token.rejected (locked) together, or none",
  appFinish: "interrupted appVerifyFinish: the claim, the unit given back and the event together, or none",
} as const;

/** Declares the interrupted-step cases. */
export function declareInterruptCases(it: InterruptCaseDeclarer): void {
  it(INTERRUPT_CASES.verifyRight, (h) => interruptRounds(h, "verifyStep", (n) => verifyRound(n, true)));
  it(INTERRUPT_CASES.verifyWrong, (h) => interruptRounds(h, "verifyStep", (n) => verifyRound(n, false)));
  it(INTERRUPT_CASES.issue, (h) => interruptRounds(h, "issueStep", issueRound));
  it(INTERRUPT_CASES.appBegin, (h) => interruptRounds(h, "appVerifyBegin", appBeginRound));
  it(INTERRUPT_CASES.appFinish, (h) => interruptRounds(h, "appVerifyFinish", appFinishRound));
}
