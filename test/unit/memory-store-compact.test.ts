/**
 * MemoryTokenStore's compact representation: a guide's cooldown and sends counters share one slot keyed by the
 * guide (apart from every other key), the rare per-token values kept aside are never read for a slot that
 * was released and reused, and the event id index finds compact and non-compact cursors alike, across its
 * rebuilds.
 */
import { describe, expect, it } from "vitest";
import { MemoryTokenStore } from "../../src/adapters/memory.js";
import { rateLimitKeys } from "../../src/policy/rate-limit.js";
import type { TokenEvent } from "../../src/ports/events.js";
import type { NewToken } from "../../src/ports/store.js";

const T0 = Date.UTC(2026, 10, 23, 12);
const MIN = 60_000;
const H = (fill: string) => `h1:${fill.repeat(43).slice(0, 42)}A`; // canonical 43-char base64url
const ID = (n: number) => `AAAAAAAAAA${String(n).padStart(6, "0")}`; // 16 base64url characters
const randomId = () =>
  Buffer.from(globalThis.crypto.getRandomValues(new Uint8Array(12))).toString("base64url");

function tok(over: Partial<NewToken> = {}): NewToken {
  return {
    tokenId: ID(1),
    guideId: "G-1",
    providerId: "P-1",
    beneficiaryId: "B-1",
    codeHash: H("x"),
    issuedAtMs: T0,
    expiresAtMs: T0 + 30 * MIN,
    maxAttempts: 5,
    channel: "sms",
    ...over,
  };
}

describe("MemoryTokenStore counters", () => {
  it("a guide's cooldown and sends are two counters, apart from any other key with the same text", async () => {
    const store = new MemoryTokenStore();
    const cd = rateLimitKeys.cooldown("G-1");
    const sg = rateLimitKeys.sends("G-1");
    await store.increment(cd, MIN, T0);
    await store.increment(sg, 10 * MIN, T0);
    await store.increment(sg, 10 * MIN, T0 + 1);
    // the guide's key part, and keys that only look like the families, are keys of their own
    for (const other of ["G-1", "rl:cd:", "rl:cdG-1", "rl:sg", "rl:xx:G-1", rateLimitKeys.failures("G-1")]) {
      expect(await store.peek(other, T0)).toEqual({ count: 0, resetAtMs: 0 });
      expect(await store.increment(other, 5 * MIN, T0)).toEqual({ count: 1, resetAtMs: T0 + 5 * MIN });
    }
    expect(await store.peek(cd, T0 + 2)).toEqual({ count: 1, resetAtMs: T0 + MIN });
    expect(await store.peek(sg, T0 + 2)).toEqual({ count: 2, resetAtMs: T0 + 10 * MIN });
    expect(await store.peek(rateLimitKeys.sends("G-2"), T0)).toEqual({ count: 0, resetAtMs: 0 });
    // the cooldown's window ends on its own; the sends keep theirs
    expect(await store.peek(cd, T0 + MIN)).toEqual({ count: 0, resetAtMs: 0 });
    expect(await store.increment(cd, MIN, T0 + MIN)).toEqual({ count: 1, resetAtMs: T0 + 2 * MIN });
    expect(await store.decrement(sg, T0 + MIN)).toEqual({ count: 1, resetAtMs: T0 + 10 * MIN });
    expect(await store.decrement(sg, T0 + MIN)).toEqual({ count: 0, resetAtMs: T0 + 10 * MIN });
    expect(await store.decrement(sg, T0 + MIN)).toEqual({ count: 0, resetAtMs: T0 + 10 * MIN });
    expect(await store.decrement(cd, T0 + 3 * MIN)).toEqual({ count: 0, resetAtMs: 0 });
  });

  it("the issue step's counters are the ones peek reads, and refuse the next issue", async () => {
    const store = new MemoryTokenStore();
    const input = {
      token: tok(),
      failures: { key: rateLimitKeys.failures("B-1"), max: 5, windowMs: 60 * MIN },
      cooldown: { key: rateLimitKeys.cooldown("G-1"), max: 1, windowMs: MIN },
      sends: { key: rateLimitKeys.sends("G-1"), max: 2, windowMs: 60 * MIN },
      revokedEvent: {
        id: ID(90),
        type: "token.revoked",
        atMs: T0,
        beneficiaryId: "B-1",
        reason: "superseded",
      },
      issuedEvents: [],
    } as const;
    expect((await store.issueStep(input)).outcome).toBe("saved");
    expect(await store.peek(input.cooldown.key, T0)).toEqual({ count: 1, resetAtMs: T0 + MIN });
    expect(await store.peek(input.sends.key, T0)).toEqual({ count: 1, resetAtMs: T0 + 60 * MIN });
    expect(await store.issueStep(input)).toEqual({ outcome: "cooldown", resetAtMs: T0 + MIN });
    const later = { ...input, token: tok({ issuedAtMs: T0 + MIN, tokenId: ID(2) }) };
    expect((await store.issueStep(later)).outcome).toBe("saved");
    const third = { ...input, token: tok({ issuedAtMs: T0 + 2 * MIN, tokenId: ID(3) }) };
    expect(await store.issueStep(third)).toEqual({ outcome: "sends_per_guide", resetAtMs: T0 + 60 * MIN });
  });

  it("purge drops the ended counters of both kinds and keeps the live ones", async () => {
    const store = new MemoryTokenStore();
    for (let i = 0; i < 3000; i++) {
      await store.increment(rateLimitKeys.cooldown(`G-${i}`), MIN, T0);
      await store.increment(rateLimitKeys.sends(`G-${i}`), i % 3 === 0 ? 60 * MIN : MIN, T0);
      await store.increment(`other-${i}`, i % 2 === 0 ? 60 * MIN : MIN, T0);
    }
    const now = T0 + 2 * MIN;
    await store.purge(now);
    const strings = new Set(store.debugSnapshot().strings);
    expect(strings.has("G-3")).toBe(true); // its sends are live
    expect(strings.has("G-1")).toBe(false);
    expect(strings.has("other-2")).toBe(true);
    expect(strings.has("other-1")).toBe(false);
    for (let i = 0; i < 3000; i++) {
      expect((await store.peek(rateLimitKeys.sends(`G-${i}`), now)).count).toBe(i % 3 === 0 ? 1 : 0);
      expect((await store.peek(rateLimitKeys.cooldown(`G-${i}`), now)).count).toBe(0);
      expect((await store.peek(`other-${i}`, now)).count).toBe(i % 2 === 0 ? 1 : 0);
    }
    // slots freed by the purge serve new keys, with fresh windows
    for (let i = 0; i < 3000; i++) await store.increment(rateLimitKeys.cooldown(`N-${i}`), MIN, now);
    expect(await store.peek(rateLimitKeys.cooldown("N-7"), now)).toEqual({ count: 1, resetAtMs: now + MIN });
    expect(await store.peek(rateLimitKeys.sends("G-3"), now)).toEqual({ count: 1, resetAtMs: T0 + 60 * MIN });
  });

  it("a guide's counters live in its slot: they outlive its token, and come before one", async () => {
    const store = new MemoryTokenStore({ expiredGraceMs: 0 });
    const sg = rateLimitKeys.sends("G-1");
    const cd = rateLimitKeys.cooldown("G-2");
    await store.increment(sg, 24 * 60 * MIN, T0);
    await store.increment(cd, 60 * MIN, T0);
    // counters alone: no token for either guide
    expect(store.size).toBe(0);
    expect(await store.get("G-1")).toBeUndefined();
    expect(await store.revoke("G-2", T0)).toBeUndefined();
    expect(
      await store.attempt({ guideId: "G-1", providerId: "P-1", candidateHash: H("x"), nowMs: T0 }),
    ).toEqual({
      outcome: "not_found",
    });
    // a token joins the slot: nothing superseded, the counter as it was
    expect(await store.save(tok())).toEqual({ superseded: [] });
    expect(store.size).toBe(1);
    expect(await store.peek(sg, T0 + 1)).toEqual({ count: 1, resetAtMs: T0 + 24 * 60 * MIN });
    // the token expires and is purged; the live counters stay, the ended slot of G-2 goes
    const later = T0 + 90 * MIN;
    expect((await store.purge(later)).tokens).toBe(1);
    expect(store.size).toBe(0);
    expect(await store.get("G-1")).toBeUndefined();
    expect(await store.peek(sg, later)).toEqual({ count: 1, resetAtMs: T0 + 24 * 60 * MIN });
    expect(await store.peek(cd, later)).toEqual({ count: 0, resetAtMs: 0 });
    expect(store.debugSnapshot().strings).not.toContain("G-2");
    // the lazy sweep (saves of other guides) keeps them too
    for (let i = 0; i < 50; i++) await store.save(tok({ guideId: `X-${i}`, issuedAtMs: later }));
    expect(await store.increment(sg, 24 * 60 * MIN, later)).toEqual({
      count: 2,
      resetAtMs: T0 + 24 * 60 * MIN,
    });
    await store.save(tok({ issuedAtMs: later, expiresAtMs: later + MIN }));
    expect((await store.get("G-1"))?.issuedAtMs).toBe(later);
    expect(await store.decrement(sg, later)).toEqual({ count: 1, resetAtMs: T0 + 24 * 60 * MIN });
    // past every window and expiry the slot goes, and a new token starts without counters
    const end = T0 + 25 * 60 * MIN;
    await store.purge(end);
    expect(store.size).toBe(0);
    expect(await store.peek(sg, end)).toEqual({ count: 0, resetAtMs: 0 });
    expect(await store.save(tok({ issuedAtMs: end, expiresAtMs: end + MIN }))).toEqual({ superseded: [] });
    expect(await store.peek(sg, end)).toEqual({ count: 0, resetAtMs: 0 });
    expect(store.size).toBe(1);
  });

  it("hits on a guide's counters between purge's slices are kept", async () => {
    const store = new MemoryTokenStore();
    for (let i = 0; i < 60_000; i++) await store.increment(rateLimitKeys.sends(`old-${i}`), MIN, T0);
    const key = rateLimitKeys.sends("live");
    await store.increment(key, 60 * MIN, T0);
    const now = T0 + 5 * MIN;
    let ticks = 0;
    let running = true;
    const pinger = (): void => {
      if (!running) return;
      ticks++;
      void store.increment(key, 60 * MIN, now);
      void store.increment(rateLimitKeys.sends(`old-${ticks}`), MIN, now); // a purged guide, counted anew
      setImmediate(pinger);
    };
    setImmediate(pinger);
    await store.purge(now);
    running = false;
    expect(ticks).toBeGreaterThan(1);
    expect((await store.peek(key, now)).count).toBe(1 + ticks);
    for (let t = 1; t <= ticks; t++) {
      expect(await store.peek(rateLimitKeys.sends(`old-${t}`), now)).toEqual({
        count: 1,
        resetAtMs: now + MIN,
      });
    }
    expect((await store.peek(rateLimitKeys.sends(`old-${ticks + 1}`), now)).count).toBe(0);
  });
});

describe("MemoryTokenStore values kept aside", () => {
  it.each([
    ["purge", false],
    ["the lazy sweep", true],
  ])(
    "a slot released by %s: its superseded hash and non-compact fields never reach the token that reuses it",
    async (_, lazy) => {
      const store = new MemoryTokenStore({ expiredGraceMs: 0 });
      // a non-compact token, superseded (its hash kept aside) by one that expires first
      await store.save(
        tok({ guideId: "G-old", tokenId: "t-1", codeHash: "plain-1", expiresAtMs: T0 + 60 * MIN }),
      );
      await store.save(
        tok({
          guideId: "G-old",
          tokenId: "t-2",
          codeHash: "plain-2",
          providerId: "P-9",
          expiresAtMs: T0 + 5 * MIN,
        }),
      );
      // the lazy sweep of the next save, or purge, releases the slot
      if (!lazy) expect(await store.purge(T0 + 10 * MIN)).toEqual({ tokens: 1, events: 0 });
      // a compact token takes the freed slot
      const fresh = tok({ guideId: "G-new", issuedAtMs: T0 + 11 * MIN, expiresAtMs: T0 + 40 * MIN });
      await store.save(fresh);
      expect(await store.get("G-new")).toEqual({ ...fresh, attempts: 0, status: "active" });
      const attempt = (candidateHash: string) =>
        store.attempt({ guideId: "G-new", providerId: "P-1", candidateHash, nowMs: T0 + 12 * MIN });
      expect((await attempt("plain-1")).outcome).toBe("mismatch"); // not "superseded"
      expect((await attempt(H("x"))).outcome).toBe("ok");
      expect(store.size).toBe(1);
      const strings = store.debugSnapshot().strings;
      expect(strings).not.toContain("plain-1");
      expect(strings).not.toContain("t-2");
    },
  );

  it("a superseded hash is kept while live, also when the slot's token moves between purges", async () => {
    const store = new MemoryTokenStore();
    await store.save(tok({ codeHash: "plain-a", expiresAtMs: T0 + 60 * MIN }));
    await store.save(tok({ tokenId: ID(2), codeHash: H("y"), issuedAtMs: T0 + MIN }));
    await store.save(tok({ guideId: "G-2", tokenId: "x", codeHash: "p", expiresAtMs: T0 + 2 * MIN }));
    await store.purge(T0 + 3 * MIN); // G-2 goes; G-1's superseded hash stays
    const attempt = (candidateHash: string) =>
      store.attempt({ guideId: "G-1", providerId: "P-1", candidateHash, nowMs: T0 + 4 * MIN });
    expect((await attempt("plain-a")).outcome).toBe("superseded");
    expect((await attempt(H("y"))).outcome).toBe("ok");
  });
});

describe("MemoryTokenStore event id index", () => {
  it("pages by compact and non-compact cursors alike, past the index's rebuilds", async () => {
    const store = new MemoryTokenStore({ maxEventsPerBeneficiary: 6000 });
    const appended: TokenEvent[] = [];
    for (let i = 0; i < 5000; i++) {
      const event: TokenEvent = {
        id: i % 7 === 0 ? `e-${i}` : randomId(),
        type: "token.issued",
        atMs: T0 + i,
        beneficiaryId: i % 2 === 0 ? "B-1" : "B-2",
        tokenId: ID(i),
      };
      appended.push(event);
      await store.appendEvent(event);
    }
    for (const beneficiaryId of ["B-1", "B-2"]) {
      const seen: TokenEvent[] = [];
      let before: string | undefined;
      for (;;) {
        const page = await store.listEvents(
          beneficiaryId,
          before === undefined ? { limit: 97 } : { limit: 97, before },
        );
        if (page.length === 0) break;
        seen.push(...page);
        before = page.at(-1)!.id;
      }
      expect(seen).toEqual(appended.filter((e) => e.beneficiaryId === beneficiaryId).reverse());
    }
    // a cursor of the other beneficiary's history, or one never appended, gives nothing
    expect(await store.listEvents("B-1", { limit: 5, before: appended[1]!.id })).toEqual([]);
    expect(await store.listEvents("B-1", { limit: 5, before: randomId() })).toEqual([]);
  });

  it("events past retention leave the index with their slots; the cap's drops too", async () => {
    const store = new MemoryTokenStore({ eventRetentionMs: 10 * MIN, maxEventsPerBeneficiary: 3 });
    const ids = Array.from({ length: 5 }, () => randomId());
    for (const [i, id] of ids.entries()) {
      await store.appendEvent({ id, type: "token.issued", atMs: T0 + i * MIN, beneficiaryId: "B-1" });
    }
    expect(store.truncatedEvents("B-1")).toBe(2);
    expect(await store.listEvents("B-1", { limit: 5, before: ids[1]! })).toEqual([]); // dropped by the cap
    expect((await store.listEvents("B-1", { limit: 5, before: ids[3]! })).map((e) => e.id)).toEqual([ids[2]]);
    expect(await store.purge(T0 + 13 * MIN + 1)).toEqual({ tokens: 0, events: 2 });
    expect((await store.listEvents("B-1", { limit: 5 })).map((e) => e.id)).toEqual([ids[4]]);
    expect(await store.listEvents("B-1", { limit: 5, before: ids[3]! })).toEqual([]);
    // slots freed by the purge take new events, found by their own ids
    const next = randomId();
    await store.appendEvent({ id: next, type: "token.verified", atMs: T0 + 20 * MIN, beneficiaryId: "B-1" });
    expect((await store.listEvents("B-1", { limit: 5, before: next })).map((e) => e.id)).toEqual([ids[4]]);
  });

  it("events with and without the rarer fields share freed slots and read back exactly", async () => {
    const store = new MemoryTokenStore({ maxEventsPerBeneficiary: 3 });
    const kept: TokenEvent[] = [];
    for (let i = 0; i < 40; i++) {
      const base = {
        id: randomId(),
        atMs: T0 + i,
        beneficiaryId: "B-1",
        guideId: "G-1",
        tokenId: randomId(),
      };
      const event: TokenEvent =
        i % 3 === 0
          ? { ...base, type: "token.issued", recipient: "guardian", dependentId: "B-0" }
          : i % 3 === 1
            ? {
                ...base,
                type: "token.delivered",
                deliveryId: randomId(),
                maskedContact: `(43) 9****-${i}`,
                durationMs: i,
              }
            : {
                ...base,
                type: "token.rejected",
                reason: "mismatch",
                attemptsLeft: i % 5,
                tokenId: `odd-${i}`,
              };
      kept.push(event);
      await store.appendEvent(event);
    }
    expect(await store.listEvents("B-1", { limit: 10 })).toEqual(kept.slice(-3).reverse());
    expect(store.truncatedEvents("B-1")).toBe(37);
    const strings = store.debugSnapshot().strings;
    expect(strings).not.toContain("(43) 9****-1"); // dropped with its event
  });
});
