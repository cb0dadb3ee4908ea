import { describe, expect, it } from "vitest";
import { MemoryTokenStore } from "../../src/adapters/memory.js";
import type { TokenEvent } from "../../src/ports/events.js";
import type { NewToken } from "../../src/ports/store.js";
import { runStoreConformance } from "../../src/testing/store-conformance.js";

const T0 = Date.UTC(2026, 10, 23, 12);
const MIN = 60_000;
const H = (fill: string) => `h1:${fill.repeat(43).slice(0, 42)}A`; // canonical 43-char base64url

function tok(over: Partial<NewToken> = {}): NewToken {
  return {
    tokenId: "AAAAAAAAAAAAAAAA",
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

runStoreConformance({
  name: "MemoryTokenStore",
  createStore: () => new MemoryTokenStore({ eventRetentionMs: 7 * 86_400_000 }),
  capabilities: { sharedAcrossInstances: false, eventRetentionMs: 7 * 86_400_000, concurrentAttempts: 1000 },
  test: { describe, it, expect },
});

describe("MemoryTokenStore specifics", () => {
  it("round-trips compact (h1 + 16-char id) and non-compact hashes and ids", async () => {
    const store = new MemoryTokenStore();
    const compact = tok({ tokenId: "abcdefghijklmnop", codeHash: H("Q") });
    const loose = tok({ guideId: "G-2", tokenId: "a token id", codeHash: "h2:something else" });
    await store.save(compact);
    await store.save(loose);
    expect(await store.get("G-1")).toEqual({ ...compact, attempts: 0, status: "active" });
    expect(await store.get("G-2")).toEqual({ ...loose, attempts: 0, status: "active" });
    // A candidate in another format never matches a compact hash, and vice versa.
    expect(
      (await store.attempt({ guideId: "G-1", providerId: "P-1", candidateHash: "h2:x", nowMs: T0 })).outcome,
    ).toBe("mismatch");
    expect(
      (await store.attempt({ guideId: "G-2", providerId: "P-1", candidateHash: H("Q"), nowMs: T0 })).outcome,
    ).toBe("mismatch");
    expect(
      (
        await store.attempt({
          guideId: "G-2",
          providerId: "P-1",
          candidateHash: "h2:something else",
          nowMs: T0,
        })
      ).outcome,
    ).toBe("ok");
  });

  it("a non-canonical base64url hash (nonzero padding bits) is not decoded as the same bytes", async () => {
    const store = new MemoryTokenStore();
    await store.save(tok({ codeHash: `h1:${"A".repeat(43)}` }));
    const r = await store.attempt({
      guideId: "G-1",
      providerId: "P-1",
      candidateHash: `h1:${"A".repeat(42)}B`,
      nowMs: T0,
    });
    expect(r.outcome).toBe("mismatch");
  });

  it("lazy purge: saves sweep tokens expired for longer than the grace, never earlier", async () => {
    const store = new MemoryTokenStore({ expiredGraceMs: 10 * MIN });
    for (let i = 0; i < 4; i++) await store.save(tok({ guideId: `old-${i}` }));
    // Exactly at expiry + grace - 1 ms: nothing is swept.
    const almost = T0 + 40 * MIN - 1;
    for (let i = 0; i < 4; i++)
      await store.save(tok({ guideId: `new-${i}`, issuedAtMs: almost, expiresAtMs: almost + 30 * MIN }));
    expect(store.size).toBe(8);
    expect(
      (await store.attempt({ guideId: "old-0", providerId: "P-1", candidateHash: H("x"), nowMs: almost }))
        .outcome,
    ).toBe("expired");
    const later = T0 + 40 * MIN;
    for (let i = 0; i < 8; i++)
      await store.save(tok({ guideId: `later-${i}`, issuedAtMs: later, expiresAtMs: later + 30 * MIN }));
    expect(await store.get("old-0")).toBeUndefined();
    expect(store.size).toBe(12);
  });

  it("caps events per beneficiary, dropping the oldest", async () => {
    const store = new MemoryTokenStore({ maxEventsPerBeneficiary: 3 });
    for (let i = 0; i < 5; i++) {
      await store.appendEvent({ id: `e${i}`, type: "token.issued", atMs: T0 + i, beneficiaryId: "B-1" });
    }
    const events = await store.listEvents("B-1", { limit: 10 });
    expect(events.map((e) => e.id)).toEqual(["e4", "e3", "e2"]);
  });

  it("keeps every optional event field, and sorts an out-of-order append by time", async () => {
    const store = new MemoryTokenStore();
    const full: TokenEvent = {
      id: "full",
      type: "token.rejected",
      atMs: T0 + 10,
      beneficiaryId: "B-1",
      guideId: "G-1",
      providerId: "P-1",
      tokenId: "t",
      channel: "whatsapp",
      maskedContact: "(43) 9****-0001",
      recipient: "guardian",
      reason: "mismatch",
      attemptsLeft: 0,
    };
    await store.appendEvent(full);
    await store.appendEvent({ id: "earlier", type: "app.enrolled", atMs: T0, beneficiaryId: "B-1" });
    const events = await store.listEvents("B-1", { limit: 10 });
    expect(events).toEqual([full, { id: "earlier", type: "app.enrolled", atMs: T0, beneficiaryId: "B-1" }]);
    expect(await store.listEvents("B-1", { limit: 10, before: "no-such-id" })).toEqual([]);
  });

  it("keeps a beneficiary's events sorted by time whatever the append order (head, middle, tail)", async () => {
    const store = new MemoryTokenStore();
    const at = [10, 30, 20, 5, 30, 25];
    for (const [i, t] of at.entries()) {
      await store.appendEvent({ id: `e${i}`, type: "token.issued", atMs: T0 + t, beneficiaryId: "B-1" });
    }
    const ids = (await store.listEvents("B-1", { limit: 10 })).map((e) => e.id);
    expect(ids).toEqual(["e4", "e1", "e5", "e2", "e0", "e3"]);
    expect((await store.listEvents("B-1", { limit: 2, before: "e5" })).map((e) => e.id)).toEqual([
      "e2",
      "e0",
    ]);
    const purged = await store.purge(T0 + 365 * 86_400_000 + 21);
    expect(purged.events).toBe(3);
    expect((await store.listEvents("B-1", { limit: 10 })).map((e) => e.id)).toEqual(["e4", "e1", "e5"]);
  });

  it("debugSnapshot lists every held string and byte array", async () => {
    const store = new MemoryTokenStore();
    await store.save(tok());
    await store.increment("k", MIN, T0);
    const snap = store.debugSnapshot();
    expect(snap.strings).toContain("G-1");
    expect(snap.strings).toContain("k");
    expect(snap.bytes.length).toBe(2);
  });
});
