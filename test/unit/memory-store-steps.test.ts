/**
 * MemoryTokenStore's intent-level steps against the reference: the same scripted scenario run on the store's own
 * steps and on a wrapper exposing only the fine-grained methods (so `_steps.ts` composes them) must give the same
 * outcomes, the same counters and the same events, field for field. Also: concurrent correct verifies (exactly one
 * ok), a refused issue changes nothing, the service runs the steps, the event log keeps any field, and `purge`
 * stays consistent with calls made between its slices.
 */
import { describe, expect, it, vi } from "vitest";
import { MemoryTokenStore } from "../../src/adapters/memory.js";
import { rateLimitKeys } from "../../src/policy/rate-limit.js";
import type { TokenEvent } from "../../src/ports/events.js";
import type { NewToken, TokenStore } from "../../src/ports/store.js";
import type { IssueStepInput, VerifyStepInput } from "../../src/ports/store-steps.js";
import {
  runAppVerifyBegin,
  runAppVerifyFinish,
  runIssueStep,
  runVerifyStep,
  type SteppingStore,
} from "../../src/service/_steps.js";
import { createTokenService } from "../../src/service/token-service.js";
import { OutboxNotifier } from "../../src/testing/fakes.js";
import { testKeyBytes, testPepper } from "../helpers/keys.js";

const T0 = Date.UTC(2026, 10, 23, 12);
const MIN = 60_000;
const H = (fill: string) => `h1:${fill.repeat(43).slice(0, 42)}A`; // canonical 43-char base64url
/** A 16-character base64url id (the service's format), distinct per label. */
const ID = (n: number) => `id${String(n).padStart(14, "0")}`;

/** The fine-grained methods of a store, and nothing else: `_steps.ts` then composes them. */
function fineGrainedOnly(store: MemoryTokenStore): TokenStore {
  return {
    save: (t) => store.save(t),
    attempt: (i) => store.attempt(i),
    revoke: (g, n) => store.revoke(g, n),
    get: (g) => store.get(g),
    increment: (k, w, n) => store.increment(k, w, n),
    decrement: (k, n) => store.decrement(k, n),
    peek: (k, n) => store.peek(k, n),
    claimOnce: (k, e, n) => store.claimOnce(k, e, n),
    putAppSecret: (r) => store.putAppSecret(r),
    getAppSecret: (b) => store.getAppSecret(b),
    appendEvent: (e) => store.appendEvent(e),
    listEvents: (b, o) => store.listEvents(b, o),
    purge: (n) => store.purge(n),
  };
}

let nextId = 0;
function token(guideId: string, beneficiaryId: string, code: string, atMs: number): NewToken {
  return {
    tokenId: ID(++nextId),
    guideId,
    providerId: "P-1",
    beneficiaryId,
    codeHash: H(code),
    issuedAtMs: atMs,
    expiresAtMs: atMs + 10 * MIN,
    maxAttempts: 3,
    channel: "sms",
  };
}

const failures = (b: string) => ({ key: rateLimitKeys.failures(b), max: 4, windowMs: 60 * MIN });
function issueInput(t: NewToken, eventId: number): IssueStepInput {
  const base = { beneficiaryId: t.beneficiaryId, guideId: t.guideId, providerId: t.providerId };
  return {
    token: t,
    failures: failures(t.beneficiaryId),
    cooldown: { key: rateLimitKeys.cooldown(t.guideId), max: 1, windowMs: MIN },
    sends: { key: rateLimitKeys.sends(t.guideId), max: 3, windowMs: 60 * MIN },
    revokedEvent: {
      id: ID(eventId),
      atMs: t.issuedAtMs,
      ...base,
      type: "token.revoked",
      reason: "superseded",
    },
    issuedEvents: [
      { id: ID(eventId + 1), atMs: t.issuedAtMs, ...base, type: "token.issued", tokenId: t.tokenId },
      {
        id: ID(eventId + 2),
        atMs: t.issuedAtMs,
        ...base,
        tokenId: t.tokenId,
        type: "token.delivery_started",
        deliveryId: ID(eventId + 3),
        mode: "foreground",
        deadlineAtMs: t.issuedAtMs + 15_000,
      },
    ],
  };
}
function verifyInput(guideId: string, providerId: string, code: string, nowMs: number, eventId: number) {
  return {
    guideId,
    providerId,
    candidateHash: H(code),
    nowMs,
    failureWindowMs: 60 * MIN,
    providerFailures: { key: rateLimitKeys.providerFailures(providerId), windowMs: 60 * MIN },
    eventIds: [ID(eventId), ID(eventId + 1)],
  } satisfies VerifyStepInput;
}

/** Every step of the scenario, run on `store`; returns each result, in order. */
async function scenario(store: SteppingStore): Promise<unknown[]> {
  nextId = 0;
  const out: unknown[] = [];
  let t = T0;
  const issue = async (guideId: string, b: string, code: string, e: number) =>
    out.push(await runIssueStep(store, issueInput(token(guideId, b, code, t), e)));
  const verify = async (guideId: string, p: string, code: string, e: number) =>
    out.push(await runVerifyStep(store, verifyInput(guideId, p, code, t, e)));

  await issue("G-1", "B-1", "a", 1000);
  await issue("G-1", "B-1", "b", 1010); // cooldown refuses
  t += 2 * MIN;
  await issue("G-1", "B-1", "b", 1020); // supersedes: token.revoked first
  await verify("G-1", "P-1", "a", 1030); // the previous code: superseded, costs nothing
  await verify("G-1", "P-1", "z", 1040); // mismatch: the beneficiary's failures
  await verify("G-1", "P-9", "b", 1050); // wrong_provider: the provider's counter, in the event
  await verify("G-1", "P-1", "b", 1060); // ok
  await verify("G-1", "P-1", "b", 1070); // consumed
  await verify("G-404", "P-1", "b", 1080); // not_found: no event
  t += 2 * MIN;
  await issue("G-2", "B-1", "c", 1100);
  for (let i = 0; i < 3; i++) await verify("G-2", "P-1", "y", 1110 + 10 * i); // locks at the third
  await verify("G-2", "P-1", "c", 1150); // locked
  await issue("G-3", "B-1", "d", 1200); // B-1 has 4 failures: locked_out
  t += 2 * MIN;
  await issue("G-4", "B-2", "e", 1300);
  t += 2 * MIN;
  await issue("G-4", "B-2", "f", 1310);
  t += 2 * MIN;
  await issue("G-4", "B-2", "g", 1320);
  t += 2 * MIN;
  await issue("G-4", "B-2", "h", 1330); // 3 sends: sends_per_guide
  t += 11 * MIN;
  await verify("G-4", "P-1", "g", 1340); // expired

  // app mode
  const lockedEvent = (e: number): TokenEvent => ({
    id: ID(e),
    atMs: t,
    beneficiaryId: "B-3",
    guideId: "G-A",
    providerId: "P-1",
    channel: "app",
    type: "token.rejected",
    reason: "locked",
  });
  const begin = (e: number, max = 2) =>
    runAppVerifyBegin(store, {
      beneficiaryId: "B-3",
      nowMs: t,
      failures: failures("B-3"),
      attempts: { key: rateLimitKeys.appAttempts("G-A", "B-3"), max, windowMs: 10 * MIN },
      lockedEvent: lockedEvent(e),
    });
  out.push(await begin(2000)); // no secret: not_found, the unit given back
  await store.putAppSecret({ beneficiaryId: "B-3", keyId: "k1", ciphertext: "c1", createdAtMs: t });
  out.push(await begin(2010)); // compare
  out.push(
    await runAppVerifyFinish(store, {
      matched: false,
      nowMs: t,
      failuresKey: failures("B-3").key,
      events: [{ ...lockedEvent(2020), reason: "mismatch", attemptsLeft: 0 }],
    }),
  );
  out.push(await begin(2030)); // the guide's attempts are spent: locked
  for (const e of [2040, 2050]) {
    out.push(await begin(e, 10));
    out.push(
      await runAppVerifyFinish(store, {
        matched: true,
        nowMs: t,
        failuresKey: failures("B-3").key,
        claim: { key: rateLimitKeys.totpStep("B-3", 7), expiresAtMs: t + MIN },
        verifiedEvent: { ...lockedEvent(e + 1), type: "token.verified", tokenId: "totp-7" },
        replayedEvent: { ...lockedEvent(e + 2), tokenId: "totp-7", reason: "consumed" },
      }),
    ); // the first claims, the second is a replay
  }
  return out;
}

/** What a store holds after the scenario: every counter the scenario touched, every event, every token. */
async function state(store: TokenStore, nowMs: number): Promise<unknown> {
  const keys = [
    ...["B-1", "B-2", "B-3"].map((b) => rateLimitKeys.failures(b)),
    ...["G-1", "G-2", "G-3", "G-4"].flatMap((g) => [rateLimitKeys.cooldown(g), rateLimitKeys.sends(g)]),
    rateLimitKeys.providerFailures("P-9"),
    rateLimitKeys.appAttempts("G-A", "B-3"),
  ];
  return {
    counters: await Promise.all(keys.map((k) => store.peek(k, nowMs))),
    events: await Promise.all(["B-1", "B-2", "B-3"].map((b) => store.listEvents(b, { limit: 1000 }))),
    tokens: await Promise.all(["G-1", "G-2", "G-3", "G-4"].map((g) => store.get(g))),
  };
}

describe("MemoryTokenStore steps", () => {
  it("give the composed form's outcomes, counters and events, field for field", async () => {
    const stepped = new MemoryTokenStore();
    const composedBase = new MemoryTokenStore();
    const composed = fineGrainedOnly(composedBase) as SteppingStore;
    expect(typeof (composed as SteppingStore).issueStep).toBe("undefined");

    const viaSteps = await scenario(stepped);
    const viaComposed = await scenario(composed);
    expect(viaSteps).toEqual(viaComposed);
    const outcomes = viaSteps.map((r) => {
      const o = r as { outcome?: string; attempt?: { outcome: string }; first?: boolean };
      return o.outcome ?? o.attempt?.outcome ?? `first:${o.first}`;
    });
    // the scenario reaches what it says it does (so the comparison is not vacuous)
    expect(outcomes).toEqual([
      "saved",
      "cooldown",
      "saved",
      "superseded",
      "mismatch",
      "wrong_provider",
      "ok",
      "consumed",
      "not_found",
      "saved",
      "mismatch",
      "mismatch",
      "mismatch",
      "locked",
      "locked_out",
      "saved",
      "saved",
      "saved",
      "sends_per_guide",
      "expired",
      "not_found",
      "compare",
      "first:false",
      "locked",
      "compare",
      "first:true",
      "compare",
      "first:false",
    ]);
    const end = T0 + 25 * MIN;
    const a = await state(stepped, end);
    expect(a).toEqual(await state(composedBase, end));
    // the step was claimed on both (a further claim within its life is refused)
    const claim = (s: TokenStore) =>
      s.claimOnce(rateLimitKeys.totpStep("B-3", 7), T0 + 60 * MIN, T0 + 23 * MIN + 1);
    expect([await claim(stepped), await claim(composedBase)]).toEqual([false, false]);
    // every event a step returned is in the history, in order
    const returned = viaSteps.flatMap((r) => (r as { events?: TokenEvent[] }).events ?? []);
    const listed = (a as { events: TokenEvent[][] }).events.flat();
    expect(returned.length).toBeGreaterThan(15);
    expect(listed).toHaveLength(returned.length);
    for (const event of returned) expect(listed).toContainEqual(event);
  });

  it("of N concurrent correct verifies, exactly one is ok and one token.verified is recorded", async () => {
    const store = new MemoryTokenStore();
    await store.issueStep(issueInput(token("G-1", "B-1", "a", T0), 1));
    const n = 200;
    const results = await Promise.all(
      Array.from({ length: n }, (_, i) =>
        store.verifyStep(verifyInput("G-1", "P-1", "a", T0 + 1, 100 + 2 * i)),
      ),
    );
    expect(results.filter((r) => r.attempt.outcome === "ok")).toHaveLength(1);
    expect(results.filter((r) => r.attempt.outcome === "consumed")).toHaveLength(n - 1);
    const events = await store.listEvents("B-1", { limit: 1000 });
    expect(events.filter((e) => e.type === "token.verified")).toHaveLength(1);
    expect(events.filter((e) => e.type === "token.rejected" && e.reason === "consumed")).toHaveLength(n - 1);
  });

  it("a refused issue changes nothing: no counter hit, no token, no event", async () => {
    const store = new MemoryTokenStore();
    const first = token("G-1", "B-1", "a", T0);
    await store.issueStep(issueInput(first, 1));
    const cases: [string, () => Promise<void>, NewToken][] = [
      ["cooldown", async () => {}, token("G-1", "B-1", "b", T0 + 1000)],
      [
        "locked_out",
        async () => {
          for (let i = 0; i < 4; i++) await store.increment(failures("B-2").key, 60 * MIN, T0);
        },
        token("G-2", "B-2", "c", T0 + 2000),
      ],
    ];
    for (const [outcome, arrange, next] of cases) {
      await arrange();
      const before = await state(store, T0 + 3000);
      const events = await Promise.all(["B-1", "B-2"].map((b) => store.listEvents(b, { limit: 100 })));
      const result = await store.issueStep(issueInput(next, 50));
      expect(result.outcome).toBe(outcome);
      expect(await state(store, T0 + 3000)).toEqual(before);
      expect(await Promise.all(["B-1", "B-2"].map((b) => store.listEvents(b, { limit: 100 })))).toEqual(
        events,
      );
    }
    expect((await store.get("G-1"))?.tokenId).toBe(first.tokenId);
    expect(await store.get("G-2")).toBeUndefined();
  });

  it("the service runs issue, verify and app verification through the store's steps", async () => {
    const store = new MemoryTokenStore();
    const notifier = new OutboxNotifier();
    const tokens = createTokenService({
      store,
      notifier,
      pepper: testPepper("steps"),
      secretsKey: testKeyBytes("steps"),
    });
    const spies = Object.fromEntries(
      (
        [
          "issueStep",
          "verifyStep",
          "appVerifyBegin",
          "appVerifyFinish",
          "save",
          "attempt",
          "peek",
          "increment",
          "decrement",
          "claimOnce",
          "appendEvent",
        ] as const
      ).map((m) => [m, vi.spyOn(store, m)]),
    );
    const counts = () => Object.fromEntries(Object.entries(spies).map(([m, s]) => [m, s.mock.calls.length]));
    const beneficiary = {
      id: "ben-1",
      birthDate: "1980-05-17",
      contacts: [{ id: "sms-1", channel: "sms" as const, address: "(43) 99999-0001" }],
    };
    await tokens.issue({ guide: { id: "G-1", providerId: "P-1" }, beneficiary });
    // one step; the delivery's outcome (token.delivered) is the one append after the notifier answered
    expect(counts()).toMatchObject({ issueStep: 1, save: 0, peek: 0, increment: 0, appendEvent: 1 });
    const code = notifier.messages.at(-1)!.code;
    expect((await tokens.verify({ guideId: "G-1", providerId: "P-1", code })).ok).toBe(true);
    expect(counts()).toMatchObject({ verifyStep: 1, attempt: 0, increment: 0, appendEvent: 1 });
    await tokens.enrollApp({ id: "ben-1" });
    const before = counts();
    await tokens.verifyAppCode({ guideId: "G-2", providerId: "P-1", beneficiaryId: "ben-1", code: "000000" });
    const after = counts();
    expect(after.appVerifyBegin! - before.appVerifyBegin!).toBe(1);
    expect(after.appVerifyFinish! - before.appVerifyFinish!).toBe(1);
    expect(after.increment).toBe(before.increment);
    expect(after.decrement).toBe(before.decrement);
    expect(after.claimOnce).toBe(before.claimOnce);
    expect(after.appendEvent).toBe(before.appendEvent);
  });
});

describe("MemoryTokenStore event log", () => {
  it("keeps any field, and values no column holds exactly, as they were", async () => {
    const store = new MemoryTokenStore();
    const odd = {
      id: "not a compact id",
      type: "custom.type",
      atMs: T0 + 0.5,
      beneficiaryId: "B-1",
      guideId: "G-1",
      providerId: "P-1",
      tokenId: "t",
      channel: "pigeon",
      recipient: "neighbour",
      reason: "why",
      attemptsLeft: 2.5,
      providerFailures: 3,
      durationMs: 12.25,
      deadlineAtMs: T0 + 15_000,
      deliveryId: "short",
      mode: "sideways",
      dependentId: "B-0",
      providerMessageId: "SM1",
      deliveryStatus: "read",
      provider: "twilio",
      providerCode: "30007",
      somethingNew: { nested: [1, 2] },
    } as unknown as TokenEvent;
    const compact: TokenEvent = {
      id: ID(1),
      type: "token.delivery_started",
      atMs: T0,
      beneficiaryId: "B-1",
      guideId: "G-1",
      providerId: "P-1",
      tokenId: ID(2),
      deliveryId: ID(3),
      mode: "background",
      deadlineAtMs: T0 + 60_000,
      attemptsLeft: 65_534,
    };
    const big = { ...compact, id: ID(4), atMs: T0 - 1, attemptsLeft: 70_000 } as TokenEvent;
    for (const event of [odd, compact, big]) await store.appendEvent(event);
    expect(await store.listEvents("B-1", { limit: 10 })).toEqual([odd, compact, big]);
    expect(await store.listEvents("B-1", { limit: 10, before: "not a compact id" })).toEqual([compact, big]);
  });

  it("the service's events read back exactly as it told them (a guardian's copy, delivery fields)", async () => {
    const store = new MemoryTokenStore();
    const told: TokenEvent[] = [];
    const tokens = createTokenService({
      store,
      notifier: new OutboxNotifier(),
      pepper: testPepper("events"),
      onEvent: (e) => {
        told.push(e);
      },
    });
    const guardian = {
      id: "mother-1",
      birthDate: "1980-05-17",
      contacts: [{ id: "sms-g", channel: "sms" as const, address: "(43) 99999-0002" }],
    };
    await tokens.issue({
      guide: { id: "G-1", providerId: "P-1" },
      beneficiary: { id: "child-1", birthDate: "2020-01-01", contacts: [] },
      guardian,
    });
    await tokens.verify({ guideId: "G-1", providerId: "P-2", code: "000000" });
    const listed = [
      ...(await store.listEvents("child-1", { limit: 100 })),
      ...(await store.listEvents("mother-1", { limit: 100 })),
    ];
    expect(told.some((e) => e.dependentId === "child-1")).toBe(true);
    expect(told.some((e) => e.providerFailures === 1)).toBe(true);
    expect(listed).toHaveLength(told.length);
    for (const event of told) expect(listed).toContainEqual(event);
  });
});

describe("MemoryTokenStore purge between its slices", () => {
  it("calls made while purge rebuilds its maps see a consistent store", async () => {
    const store = new MemoryTokenStore();
    const n = 60_000;
    for (let i = 0; i < n; i++) {
      await store.save({ ...token(`old-${i}`, `B-${i % 50}`, "a", T0), expiresAtMs: T0 + MIN });
      await store.increment(`c-old-${i}`, MIN, T0);
    }
    await store.save(token("live", "B-1", "k", T0));
    await store.increment("c-live", 60 * MIN, T0);
    await store.claimOnce("claim-live", T0 + 60 * MIN, T0);
    const now = T0 + 5 * MIN;
    const statuses: unknown[] = [];
    const counts: number[] = [];
    const claims: boolean[] = [];
    let ticks = 0;
    const during = async () => {
      ticks++;
      statuses.push((await store.get("live"))?.status);
      counts.push((await store.peek("c-live", now)).count);
      await store.increment("c-live", 60 * MIN, now);
      claims.push(await store.claimOnce("claim-live", T0 + 60 * MIN, now));
      await store.save(token(`new-${ticks}`, "B-1", "n", now));
      // a guide purged a moment ago is free for a new token
      await store.save(token(`old-${ticks}`, "B-2", "m", now));
    };
    let running = true;
    const pinger = (): void => {
      if (!running) return;
      void during();
      setImmediate(pinger);
    };
    setImmediate(pinger);
    const result = await store.purge(now);
    running = false;
    expect(ticks).toBeGreaterThan(1);
    expect(result.tokens).toBe(n);
    expect(statuses).toEqual(statuses.map(() => "active"));
    expect(counts).toEqual(counts.map((_, i) => 1 + i));
    expect(claims).toEqual(claims.map(() => false));
    // the counter took every hit made during the purge, and kept its count
    expect((await store.peek("c-live", now)).count).toBe(1 + ticks);
    expect(await store.peek("c-old-0", now)).toEqual({ count: 0, resetAtMs: 0 });
    for (let t = 1; t <= ticks; t++) {
      expect((await store.get(`new-${t}`))?.status).toBe("active");
      expect((await store.get(`old-${t}`))?.beneficiaryId).toBe("B-2");
    }
    expect(await store.get(`old-${ticks + 1}`)).toBeUndefined();
    expect(store.size).toBe(1 + 2 * ticks);
    expect((await store.attempt(verifyInput("live", "P-1", "k", now, 1))).outcome).toBe("ok");
    // and a later purge finds nothing more to remove
    expect((await store.purge(now)).tokens).toBe(0);
  });
});
