/**
 * The memory store's event records (variable-length bytes, the fields in common in a group): every event type
 * and every field shape reads back exactly as appended, through the groups (shared, split, released and
 * reused), the delivery id kept once per group, the time kept against the group's, and hostile input
 * (fast-check) alike.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { MemoryTokenStore } from "../../src/adapters/memory.js";
import type { TokenEvent } from "../../src/ports/events.js";

const T0 = Date.UTC(2026, 10, 23, 12);
const ID = (n: number) => `AAAAAAAAAA${String(n).padStart(6, "0")}`; // 16 base64url characters
const TYPES = [
  "token.issued",
  "token.delivered",
  "token.delivery_failed",
  "token.verified",
  "token.rejected",
  "token.locked",
  "token.revoked",
  "token.reported_unrequested",
  "app.enrolled",
  "token.delivery_started",
  "token.delivery_status",
  "lockout.reset",
] as const;

/** Appends the events (in order, one beneficiary) and reads the whole history back oldest first. */
async function roundTrip(events: TokenEvent[], beneficiaryId = "B-1"): Promise<TokenEvent[]> {
  const store = new MemoryTokenStore({ maxEventsPerBeneficiary: 1000 });
  for (const event of events) await store.appendEvent(event);
  return (await store.listEvents(beneficiaryId, { limit: 1000 })).reverse();
}

describe("memory event records", () => {
  it("every type with every field, compact and not, reads back exactly", async () => {
    const events: TokenEvent[] = [];
    let n = 0;
    for (const type of TYPES) {
      const base = { beneficiaryId: "B-1", guideId: "G-1", providerId: "P-1", tokenId: ID(1) };
      events.push({ ...base, id: ID(++n), type, atMs: T0 + n });
      events.push({
        ...base,
        id: ID(++n),
        type,
        atMs: T0 + n,
        channel: "whatsapp",
        recipient: "guardian",
        mode: "background",
        reason: `reason-${type}`,
        attemptsLeft: 3,
        deadlineAtMs: T0 + 15_000,
        durationMs: 180,
        providerFailures: 2,
        maskedContact: "(43) 9****-0001",
        deliveryId: ID(900),
      });
      // foreign ids and values no compact form holds
      events.push({
        beneficiaryId: "B-1",
        guideId: "guide with spaces ✓",
        providerId: "P-2",
        tokenId: "not-a-compact-id",
        id: `evt-${++n}-foreign`,
        type,
        atMs: T0 + n + 0.5,
        channel: "email",
        recipient: "beneficiary",
        mode: "foreground",
        attemptsLeft: 0,
        deadlineAtMs: T0 + 0.25,
        durationMs: -3.5,
        providerFailures: 2 ** 60,
        maskedContact: "ma***@ex*** \u{1F600} \ud800 \u0100\u00ff",
        deliveryId: "delivery/1",
      });
    }
    expect(await roundTrip(events)).toEqual(events);
  });

  it("numbers at the edges of their forms read back as they were (Object.is)", async () => {
    const values = [
      0,
      -0,
      1,
      -1,
      127,
      128,
      2 ** 51,
      -(2 ** 51),
      2 ** 51 + 2,
      2 ** 53,
      0.1,
      NaN,
      Infinity,
      -Infinity,
    ];
    const events: TokenEvent[] = values.map((v, i) => ({
      beneficiaryId: "B-1",
      id: ID(i),
      type: "token.delivered",
      atMs: i % 2 === 0 ? T0 : v,
      deadlineAtMs: v,
      durationMs: v,
      providerFailures: v,
    }));
    const back = await roundTrip(events);
    expect(back.length).toBe(events.length);
    for (const event of events) {
      const read = back.find((e) => e.id === event.id)!;
      for (const key of ["atMs", "deadlineAtMs", "durationMs", "providerFailures"] as const) {
        expect(Object.is(read[key], event[key]), `${event.id} ${key}: ${read[key]} vs ${event[key]}`).toBe(
          true,
        );
      }
    }
  });

  it("a token's events share a group; another token, guide or provider between them starts one", async () => {
    const a = { beneficiaryId: "B-1", guideId: "G-1", providerId: "P-1", tokenId: ID(1) };
    const b = { beneficiaryId: "B-1", guideId: "G-2", providerId: "P-1", tokenId: ID(2) };
    const events: TokenEvent[] = [
      { ...a, id: ID(1), type: "token.issued", atMs: T0 },
      { ...a, id: ID(2), type: "token.delivery_started", atMs: T0, deliveryId: ID(100) },
      { ...b, id: ID(3), type: "token.issued", atMs: T0 + 1 },
      { ...a, id: ID(4), type: "token.delivered", atMs: T0 + 2, deliveryId: ID(100) },
      // a second delivery of the same group: kept in its record, not the group's
      { ...a, id: ID(5), type: "token.delivered", atMs: T0 + 3, deliveryId: ID(101) },
      { ...a, id: ID(6), type: "token.delivered", atMs: T0 + 4, deliveryId: ID(100) },
      { ...a, providerId: "P-2", id: ID(7), type: "token.rejected", atMs: T0 + 5 },
      { beneficiaryId: "B-1", id: ID(8), type: "lockout.reset", atMs: T0 + 6 },
      { ...a, tokenId: undefined, id: ID(9), type: "token.verified", atMs: T0 - 1 }, // earlier: sorted in
      { ...a, guideId: undefined, id: ID(10), type: "token.verified", atMs: T0 + 7 },
    ];
    const expected = events.map((e) =>
      Object.fromEntries(Object.entries(e).filter(([, v]) => v !== undefined)),
    );
    const back = await roundTrip(events);
    expect(back.map((e) => e.id)).toEqual([
      ID(9),
      ID(1),
      ID(2),
      ID(3),
      ID(4),
      ID(5),
      ID(6),
      ID(7),
      ID(8),
      ID(10),
    ]);
    expect(back).toEqual([expected[8], ...expected.slice(0, 8), expected[9]]);
  });

  it("groups and records freed by the cap and by purge are reused and read back exactly", async () => {
    const store = new MemoryTokenStore({ maxEventsPerBeneficiary: 3, eventRetentionMs: 1000 });
    const appended: TokenEvent[] = [];
    for (let i = 0; i < 60; i++) {
      const event: TokenEvent = {
        beneficiaryId: `B-${i % 4}`,
        guideId: `G-${i % 7}`,
        providerId: `P-${i % 3}`,
        tokenId: ID(i % 5),
        id: ID(i),
        type: TYPES[i % TYPES.length]!,
        atMs: T0 + i * 100,
        ...(i % 2 === 0 ? { deliveryId: ID(1000 + (i % 6)), maskedContact: `(43) 9****-${i}` } : {}),
        ...(i % 3 === 0 ? { reason: "code_mismatch", attemptsLeft: i } : {}),
      };
      appended.push(event);
      await store.appendEvent(event);
      if (i % 10 === 9) await store.purge(T0 + i * 100 + 1000 - 250);
    }
    for (let b = 0; b < 4; b++) {
      const page = await store.listEvents(`B-${b}`, { limit: 10 });
      const kept = appended.filter((e) => e.beneficiaryId === `B-${b}` && e.atMs >= T0 + 5900 - 250);
      expect(page).toEqual(kept.slice(-3).reverse());
    }
  });

  it("hostile events (any fields and values) read back exactly, and page by their ids", async () => {
    const text = fc.oneof(
      fc.string({ maxLength: 20 }),
      fc.string({ unit: "binary", maxLength: 300 }),
      fc.constantFrom(
        "",
        "\u00ff\u0100",
        "é\u0100\uffff",
        "AAAAAAAAAAAAAAAA",
        "________________",
        "-_-_-_-_-_-_-_-_",
        "AAAAAAAAAAAAAAA=",
      ),
      fc.uint8Array({ minLength: 12, maxLength: 12 }).map((b) => Buffer.from(b).toString("base64url")),
    );
    const num = fc.oneof(
      fc.double(),
      fc.integer(),
      fc.constantFrom(-0, 2 ** 53, -(2 ** 52), T0, T0 + 15_000),
    );
    const value = fc.oneof(text, num, fc.boolean(), fc.constant(null));
    const eventArb = fc.record(
      {
        id: text,
        type: fc.oneof(fc.constantFrom(...TYPES), text),
        atMs: fc.oneof(num, fc.constant(T0)),
        guideId: fc.oneof(text, fc.constantFrom("G-1", "G-2")),
        providerId: fc.oneof(text, fc.constantFrom("P-1")),
        tokenId: fc.oneof(text, fc.constantFrom(ID(1), ID(2))),
        deliveryId: fc.oneof(text, fc.constantFrom(ID(100))),
        channel: fc.oneof(fc.constantFrom("app", "sms", "whatsapp", "email"), value),
        recipient: fc.oneof(fc.constantFrom("beneficiary", "guardian"), value),
        mode: fc.oneof(fc.constantFrom("foreground", "background"), value),
        reason: fc.oneof(fc.constantFrom("superseded", "code_mismatch"), value),
        maskedContact: value,
        attemptsLeft: fc.oneof(fc.nat(), num, value),
        deadlineAtMs: fc.oneof(num, value),
        durationMs: fc.oneof(num, value),
        providerFailures: fc.oneof(fc.nat(), num, value),
        note: value,
      },
      { requiredKeys: ["id"] },
    );
    await fc.assert(
      fc.asyncProperty(fc.array(eventArb, { maxLength: 12 }), async (raw) => {
        // unique ids, one beneficiary, times non-decreasing (the history's order is then insertion's)
        const events = raw.map((e, i) => ({
          ...e,
          beneficiaryId: "B-1",
          atMs: T0 + i,
        })) as unknown as TokenEvent[];
        const ids = new Set(events.map((e) => e.id));
        fc.pre(ids.size === events.length);
        const store = new MemoryTokenStore();
        for (const event of events) await store.appendEvent(event);
        const back = (await store.listEvents("B-1", { limit: 1000 })).reverse();
        const expected = events.map((e) =>
          Object.fromEntries(Object.entries(e).filter(([, v]) => v !== undefined)),
        );
        expect(back).toHaveLength(expected.length);
        for (let i = 0; i < expected.length; i++) {
          expect(Object.keys(back[i]!).sort()).toEqual(Object.keys(expected[i]!).sort());
          for (const key of Object.keys(expected[i]!)) {
            expect(
              Object.is((back[i] as unknown as Record<string, unknown>)[key], expected[i]![key]),
              key,
            ).toBe(true);
          }
        }
        // every event is a cursor: the page after it is the rest, older
        for (let i = 0; i < events.length; i++) {
          const page = await store.listEvents("B-1", { limit: 1000, before: events[i]!.id as string });
          expect(page.map((e) => e.id)).toEqual(
            events
              .slice(0, i)
              .map((e) => e.id)
              .reverse(),
          );
        }
      }),
      { numRuns: 300 },
    );
  });

  it("hostile times and numbers per event (any order) read back exactly", async () => {
    const num = fc.oneof(
      fc.double(),
      fc.integer(),
      fc.maxSafeInteger(),
      fc.constantFrom(-0, 2 ** 51, -(2 ** 51) - 1),
    );
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.record({ atMs: num, deadlineAtMs: num, durationMs: num, attemptsLeft: num }), {
          maxLength: 8,
        }),
        async (raw) => {
          const events = raw.map(
            (e, i) =>
              ({
                ...e,
                id: ID(i),
                type: "token.delivery_started",
                beneficiaryId: "B-1",
                guideId: "G-1",
                tokenId: ID(1),
                deliveryId: ID(100),
              }) as unknown as TokenEvent,
          );
          const store = new MemoryTokenStore();
          for (const event of events) await store.appendEvent(event);
          const back = await store.listEvents("B-1", { limit: 1000 });
          expect(back).toHaveLength(events.length);
          for (const event of events) {
            const read = back.find((e) => e.id === event.id)!;
            for (const key of ["atMs", "deadlineAtMs", "durationMs", "attemptsLeft"] as const) {
              expect(Object.is(read[key], event[key]), key).toBe(true);
            }
          }
        },
      ),
      { numRuns: 300 },
    );
  });
});
