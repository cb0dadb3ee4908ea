/**
 * Codes derived from the pepper and the token: deterministic for the server, different for any other pepper,
 * token or guide, uniform over the digits, re-created across a pepper rotation, and never at rest.
 */
import { hmac } from "@noble/hashes/hmac.js";
import { sha256 } from "@noble/hashes/sha2.js";
import { describe, expect, it } from "vitest";
import { CodeDeriver } from "../../../src/_internal/codes.js";
import { MemoryTokenStore } from "../../../src/adapters/memory.js";
import { createTokenService } from "../../../src/service/token-service.js";
import { FakeClock, OutboxNotifier } from "../../../src/testing/fakes.js";
import { adult, guide, MIN, PEPPER, setup, T0, testKey } from "./helpers.js";

const OTHER_PEPPER = "Zk3vQ9wR1tY5uI7oP2aS4dF6gH8jK0lX3cV5bN7mQ9e=";

describe("CodeDeriver", () => {
  const a = new CodeDeriver(testKey("deriver a"));
  const b = new CodeDeriver(testKey("deriver b"));

  it("is deterministic, keeps leading zeros and has exactly `digits` digits (4 to 10)", () => {
    for (let digits = 4; digits <= 10; digits++) {
      const code = a.code("tok-1", "guide-1", digits);
      expect(code).toMatch(new RegExp(`^\\d{${digits}}$`));
      expect(new CodeDeriver(testKey("deriver a")).code("tok-1", "guide-1", digits)).toBe(code);
    }
  });

  it("follows its documented construction, for short, long and non-ASCII ids alike", () => {
    // An independent reading of the CodeDeriver doc comment on a reference HMAC, first block only.
    const utf8 = new TextEncoder();
    const pepper = testKey("deriver a");
    const codeKey = hmac(sha256, pepper, utf8.encode("health-token/code-key/v1"));
    const reference = (tokenId: string, guideId: string): string | undefined => {
      const t = utf8.encode(tokenId);
      const g = utf8.encode(guideId);
      const message = new Uint8Array(t.length + 1 + g.length + 2);
      message.set(t);
      message.set(g, t.length + 1);
      const block = hmac(sha256, codeKey, message);
      const limit = 2 ** 32 - (2 ** 32 % 1_000_000);
      for (let at = 0; at + 4 <= 32; at += 4) {
        const n =
          ((block[at]! << 24) | (block[at + 1]! << 16) | (block[at + 2]! << 8) | block[at + 3]!) >>> 0;
        if (n < limit) return String(n % 1_000_000).padStart(6, "0");
      }
      return undefined;
    };
    // Short ids are encoded into the deriver's scratch buffer; long (or wide) ones into a fresh array.
    const guides = ["g", "G-0001", "x".repeat(150), "x".repeat(171), "ç".repeat(80), "€".repeat(400)];
    for (const guideId of guides) {
      for (const tokenId of ["AAAAAAAAAAAAAAAA", "tok-1", "t".repeat(300)]) {
        expect(a.code(tokenId, guideId, 6)).toBe(reference(tokenId, guideId));
      }
    }
    // The scratch buffer keeps nothing of an earlier message: a short message after a long one is unchanged.
    expect(a.code("tok-1", "g", 6)).toBe(reference("tok-1", "g"));
  });

  it("another pepper, token or guide gives another code (almost always)", () => {
    let samePepper = 0;
    let sameToken = 0;
    let sameGuide = 0;
    for (let i = 0; i < 2000; i++) {
      const code = a.code(`tok-${i}`, "g", 6);
      if (b.code(`tok-${i}`, "g", 6) === code) samePepper++;
      if (a.code(`tok-${i}x`, "g", 6) === code) sameToken++;
      if (a.code(`tok-${i}`, "h", 6) === code) sameGuide++;
    }
    // each would be about 2000 / 10^6 by chance
    expect(samePepper + sameToken + sameGuide).toBeLessThan(3);
  });

  it("is uniform: 20,000 one-digit codes fall evenly into the ten digits", () => {
    const counts = new Array<number>(10).fill(0);
    for (let i = 0; i < 20_000; i++) counts[Number(a.code(`t${i}`, "g", 1))]!++;
    // chi-square with 9 degrees of freedom: 27.9 is the 0.1% critical value
    const chi = counts.reduce((sum, c) => sum + (c - 2000) ** 2 / 2000, 0);
    expect(chi).toBeLessThan(27.9);
  });
});

describe("derived codes in the service", () => {
  it("a service with the rotated pepper list re-creates a code issued under the old pepper", async () => {
    const store = new MemoryTokenStore();
    const outbox = new OutboxNotifier();
    const clock = new FakeClock(T0);
    const before = createTokenService({ store, notifier: outbox, pepper: PEPPER, clock });
    const first = await before.issue({ guide: guide("g-rot"), beneficiary: adult("ben-rot") });
    const code = outbox.last()!.code;
    clock.advance(MIN);
    const after = createTokenService({ store, notifier: outbox, pepper: [OTHER_PEPPER, PEPPER], clock });
    const again = await after.resend({ guide: guide("g-rot"), beneficiary: adult("ben-rot") });
    expect(again).toMatchObject({ resent: true, tokenId: first.tokenId });
    expect(outbox.last()!.code).toBe(code);
    expect((await after.verify({ guideId: "g-rot", providerId: "prov-1", code })).ok).toBe(true);
    // without the old pepper the code cannot be re-created: a resend issues a new one
    clock.advance(MIN);
    const only = createTokenService({ store, notifier: outbox, pepper: OTHER_PEPPER, clock });
    const fromOld = await before.issue({ guide: guide("g-rot3"), beneficiary: adult("ben-rot3") });
    clock.advance(MIN);
    const fresh = await only.resend({ guide: guide("g-rot3"), beneficiary: adult("ben-rot3") });
    expect(fresh.resent).toBe(false);
    expect(fresh.tokenId).not.toBe(fromOld.tokenId);
  });

  it("neither the code nor anything it is derived from but the token id reaches the store", async () => {
    const { store, outbox, tokens } = setup();
    await tokens.issue({ guide: guide("g-rest"), beneficiary: adult("ben-rest") });
    const code = outbox.last()!.code;
    const { strings } = store.debugSnapshot();
    expect(strings.some((s) => s.includes(code))).toBe(false);
    expect(strings.some((s) => s.includes(PEPPER))).toBe(false);
  });
});
