/**
 * MemoryTokenStore at scale: `purge` yields to the event loop on a large store and stays consistent with calls
 * made meanwhile; history paging with `before` walks every event once, in order; the per-beneficiary cap says
 * how much it cut. (Timings are in the bench, never asserted here.)
 */
import { describe, expect, it } from "vitest";
import { MemoryTokenStore } from "../../src/adapters/memory.js";
import type { NewToken } from "../../src/ports/store.js";

const T0 = Date.UTC(2026, 10, 23, 12);
const MIN = 60_000;

function tok(i: number, over: Partial<NewToken> = {}): NewToken {
  return {
    tokenId: `tok-${i}`,
    guideId: `G-${i}`,
    providerId: "P-1",
    beneficiaryId: `B-${i % 100}`,
    codeHash: `h1:code-${i}`,
    issuedAtMs: T0,
    expiresAtMs: T0 + 5 * MIN,
    maxAttempts: 5,
    channel: "sms",
    ...over,
  };
}

describe("MemoryTokenStore at scale", () => {
  it("purge of a large store yields to the event loop before it resolves, and keeps what is saved meanwhile", async () => {
    const store = new MemoryTokenStore();
    const n = 50_000;
    for (let i = 0; i < n; i++) await store.save(tok(i));
    for (let i = 0; i < 20_000; i++) await store.increment(`c-${i}`, MIN, T0);
    let ranDuringPurge = false;
    setImmediate(() => {
      ranDuringPurge = true;
      // a save made while purge is under way: not expired at purge's now, so it must survive
      void store.save(tok(n, { guideId: "fresh", expiresAtMs: T0 + 60 * MIN }));
      void store.save(tok(n + 1, { guideId: "G-49999", tokenId: "renewed", expiresAtMs: T0 + 60 * MIN }));
    });
    const result = await store.purge(T0 + 10 * MIN);
    expect(ranDuringPurge).toBe(true);
    // G-49999's slot is the last one: it was renewed before purge reached it
    expect(result.tokens).toBe(n - 1);
    expect(store.size).toBe(2);
    expect((await store.get("fresh"))?.status).toBe("active");
    expect((await store.get("G-49999"))?.tokenId).toBe("renewed");
    expect(await store.get("G-0")).toBeUndefined();
    expect(await store.peek("c-0", T0 + 10 * MIN)).toEqual({ count: 0, resetAtMs: 0 });
  });

  it("paging 10k events with `before` returns every event once, newest first", async () => {
    const store = new MemoryTokenStore({ maxEventsPerBeneficiary: 20_000 });
    const n = 10_000;
    for (let i = 0; i < n; i++) {
      await store.appendEvent({
        id: `e-${i}`,
        type: "token.issued",
        atMs: T0 + Math.floor(i / 3),
        beneficiaryId: "B",
      });
    }
    const seen: string[] = [];
    let before: string | undefined;
    for (;;) {
      const page = await store.listEvents("B", before === undefined ? { limit: 97 } : { limit: 97, before });
      if (page.length === 0) break;
      seen.push(...page.map((e) => e.id));
      before = page.at(-1)!.id;
    }
    expect(seen).toEqual(Array.from({ length: n }, (_, i) => `e-${n - 1 - i}`));
  });

  it("a cursor id shared with another beneficiary pages this beneficiary's history; a dropped cursor gives []", async () => {
    const store = new MemoryTokenStore({ maxEventsPerBeneficiary: 3 });
    for (let i = 0; i < 3; i++)
      await store.appendEvent({ id: `x-${i}`, type: "token.issued", atMs: T0 + i, beneficiaryId: "A" });
    // same ids under B, appended later: the id index points at B's slots
    for (let i = 0; i < 3; i++)
      await store.appendEvent({ id: `x-${i}`, type: "token.issued", atMs: T0 + i, beneficiaryId: "B" });
    expect(
      (await store.listEvents("A", { limit: 10, before: "x-2" })).map((e) => e.beneficiaryId + e.id),
    ).toEqual(["Ax-1", "Ax-0"]);
    expect(
      (await store.listEvents("B", { limit: 10, before: "x-1" })).map((e) => e.beneficiaryId + e.id),
    ).toEqual(["Bx-0"]);
    await store.appendEvent({ id: "x-3", type: "token.issued", atMs: T0 + 3, beneficiaryId: "B" });
    expect(await store.listEvents("B", { limit: 10, before: "x-0" })).toEqual([]); // B's x-0 was dropped
    expect((await store.listEvents("A", { limit: 10, before: "x-1" })).map((e) => e.id)).toEqual(["x-0"]);
  });

  it("the cap is exposed and a cut history says how many events it lost", async () => {
    const store = new MemoryTokenStore({ maxEventsPerBeneficiary: 3, eventRetentionMs: 10 * MIN });
    expect(store.maxEventsPerBeneficiary).toBe(3);
    for (let i = 0; i < 5; i++)
      await store.appendEvent({ id: `e-${i}`, type: "token.issued", atMs: T0 + i, beneficiaryId: "B" });
    await store.appendEvent({ id: "o-1", type: "token.issued", atMs: T0, beneficiaryId: "other" });
    expect((await store.listEvents("B", { limit: 10 })).map((e) => e.id)).toEqual(["e-4", "e-3", "e-2"]);
    expect(store.truncatedEvents("B")).toBe(2);
    expect(store.truncatedEvents("other")).toBe(0);
    expect(store.truncatedEvents("nobody")).toBe(0);
    // retention is not a cut: once purge empties the history, it starts complete again
    expect((await store.purge(T0 + 20 * MIN)).events).toBe(4);
    expect(store.truncatedEvents("B")).toBe(0);
    await store.appendEvent({ id: "n-1", type: "token.issued", atMs: T0 + 21 * MIN, beneficiaryId: "B" });
    expect(store.truncatedEvents("B")).toBe(0);
  });
});
