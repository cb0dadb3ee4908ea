/**
 * App mode (enroll, verify, replay, lock, rotation) and its guessing bound on every store: memory, Redis with
 * both drivers, Redis Cluster with both drivers, PostgreSQL on a server and on PGlite. Ids with NUL, quotes, braces and 128 characters reach
 * the stores through the service's own key builders.
 */
import * as OTPAuth from "otpauth";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { InvalidArgumentError } from "../../src/errors.js";
import type { TokenStore } from "../../src/ports/store.js";
import { createTokenService, type TokenService } from "../../src/service/token-service.js";
import { FakeClock, OutboxNotifier } from "../../src/testing/fakes.js";
import { describeWithService } from "../helpers/services.js";
import { type Backend, type OpenedStore, storeMatrix } from "../helpers/store-matrix.js";
import { testKey } from "../unit/service/helpers.js";

const PEPPER = "app-mode-pepper:Zq8#vR2!mW5^tY7&uI9*oP0(aS3)dF6";
const KEY_A = testKey("app-mode-stores A");
const KEY_B = { id: "key-b", key: testKey("app-mode-stores B") };
const T0 = Date.UTC(2026, 10, 23, 12);
const HOSTILE_IDS = ["g\"'{x}", "{tag}", "g:1:2", "g 1", "ç-guia-ü 😀", "x".repeat(128), "a%00b", "a%2500b"];

function totpAt(secret: string, ms: number, period = 30): string {
  return new OTPAuth.TOTP({ secret: OTPAuth.Secret.fromBase32(secret), digits: 6, period }).generate({
    timestamp: ms,
  });
}

/** A code that matches none of the window's steps. */
function wrongFor(secret: string, ms: number, offset = 1): string {
  const near = new Set([-1, 0, 1].map((d) => totpAt(secret, ms + d * 30_000)));
  let n = (Number(totpAt(secret, ms)) + 500_000 + offset) % 1_000_000;
  while (near.has(String(n).padStart(6, "0"))) n = (n + 1) % 1_000_000;
  return String(n).padStart(6, "0");
}

/** Counts how many codes the service actually compared: each comparison reads the app secret once. */
function counting(store: TokenStore): { store: TokenStore; evaluated: () => number } {
  let reads = 0;
  const proxy = new Proxy(store, {
    get(target, prop, receiver) {
      const value = Reflect.get(target, prop, receiver);
      if (typeof value !== "function") return value;
      if (prop === "getAppSecret") {
        return (...args: unknown[]) => {
          reads++;
          return value.apply(target, args);
        };
      }
      // a store with the app step reads the secret inside it: a "compare" answer is one secret read
      if (prop === "appVerifyBegin") {
        return async (...args: unknown[]) => {
          const begun = await value.apply(target, args);
          if (begun.outcome === "compare") reads++;
          return begun;
        };
      }
      return value.bind(target);
    },
  });
  return { store: proxy, evaluated: () => reads };
}

function suite(backend: Backend): void {
  let opened: OpenedStore;
  let clock: FakeClock;
  beforeAll(async () => {
    opened = await backend.open();
  });
  afterAll(() => opened.close());

  const service = (store: TokenStore, over: { secretsKey?: unknown; stepSeconds?: number } = {}) => {
    clock ??= new FakeClock(T0);
    return createTokenService({
      store,
      notifier: new OutboxNotifier(),
      pepper: PEPPER,
      clock,
      secretsKey: (over.secretsKey as typeof KEY_A | undefined) ?? KEY_A,
    });
  };
  const verify = (tokens: TokenService, beneficiaryId: string, guideId: string, code: string) =>
    tokens.verifyAppCode({ guideId, providerId: "prov-1", beneficiaryId, code });

  it("enrolls, verifies, refuses a replayed step, locks a guide after 5 wrong codes", async () => {
    clock = new FakeClock(T0);
    const tokens = service(opened.store);
    const { secret } = await tokens.enrollApp({ id: "ben-flow" });
    const code = totpAt(secret, clock.now());
    expect((await verify(tokens, "ben-flow", "g-1", code)).ok).toBe(true);
    expect(await verify(tokens, "ben-flow", "g-2", code)).toEqual({ ok: false, reason: "consumed" });
    const wrong = wrongFor(secret, clock.now());
    for (let left = 4; left >= 0; left--) {
      expect(await verify(tokens, "ben-flow", "g-3", wrong)).toEqual({
        ok: false,
        reason: "mismatch",
        attemptsLeft: left,
      });
    }
    clock.advance(30_000);
    expect(await verify(tokens, "ben-flow", "g-3", totpAt(secret, clock.now()))).toEqual({
      ok: false,
      reason: "locked",
    });
  });

  it("rotation: a record under the old key verifies and is re-encrypted under the new key", async () => {
    clock = new FakeClock(T0 + 3_600_000);
    const before = service(opened.store);
    const { secret } = await before.enrollApp({ id: "ben-rot" });
    const after = service(opened.store, { secretsKey: [KEY_B, KEY_A] });
    expect((await verify(after, "ben-rot", "g-r", totpAt(secret, clock.now()))).ok).toBe(true);
    expect((await opened.store.getAppSecret("ben-rot"))?.keyId).toBe("key-b");
  });

  it("ids with NUL or a lone surrogate are refused with a typed error, before any store call", async () => {
    clock = new FakeClock(T0);
    const tokens = service(opened.store);
    for (const bad of ["g\u0000n", "g\r\n", "G-\ud800", "G-\udbff"]) {
      await expect(verify(tokens, "ben-flow", bad, "123456")).rejects.toBeInstanceOf(InvalidArgumentError);
      await expect(verify(tokens, bad, "g", "123456")).rejects.toBeInstanceOf(InvalidArgumentError);
      await expect(tokens.enrollApp({ id: bad })).rejects.toBeInstanceOf(InvalidArgumentError);
    }
  });

  it("ids with quotes, braces, separators, spaces, emoji and 128 characters work and stay apart", async () => {
    clock = new FakeClock(T0 + 7_200_000);
    const tokens = service(opened.store);
    for (const [i, id] of HOSTILE_IDS.entries()) {
      clock.advance(60_000); // a new step for every beneficiary pair below
      const beneficiaryId = `${id}-ben`.slice(-128);
      const { secret } = await tokens.enrollApp({ id: beneficiaryId });
      const wrong = wrongFor(secret, clock.now(), i);
      expect(await verify(tokens, beneficiaryId, id, wrong)).toMatchObject({
        reason: "mismatch",
        attemptsLeft: 4,
      });
      // The same guide id for another beneficiary has its own counter.
      const other = `${beneficiaryId.slice(0, 120)}-other`;
      const second = await tokens.enrollApp({ id: other });
      expect(await verify(tokens, other, id, wrongFor(second.secret, clock.now(), i))).toMatchObject({
        attemptsLeft: 4,
      });
      const code = totpAt(secret, clock.now());
      expect((await verify(tokens, beneficiaryId, id, code)).ok).toBe(true);
      expect(await verify(tokens, beneficiaryId, `${id.slice(1)}!`, code)).toEqual({
        ok: false,
        reason: "consumed",
      });
    }
  });

  it("a burst of 300 wrong codes over 60 guides compares at most 10; then the right code is refused", async () => {
    clock = new FakeClock(T0 + 10_800_000);
    const watched = counting(opened.store);
    const tokens = service(watched.store);
    const { secret } = await tokens.enrollApp({ id: "ben-burst" });
    const now = clock.now();
    const right = totpAt(secret, now);
    const wrong = (i: number) => wrongFor(secret, now, i);
    const burst = await Promise.all([
      ...Array.from({ length: 300 }, (_, i) => verify(tokens, "ben-burst", `guide-${i % 60}`, wrong(i))),
      verify(tokens, "ben-burst", "guide-right", right),
    ]);
    const compared = watched.evaluated();
    const mismatches = burst.filter((r) => !r.ok && r.reason === "mismatch").length;
    const locked = burst.filter((r) => !r.ok && r.reason === "locked").length;
    const oks = burst.filter((r) => r.ok).length;
    // The right code, when it got a unit, gives it back; so at most 10 WRONG codes are ever compared.
    expect(`${mismatches} wrong codes compared of 300`).toBe("10 wrong codes compared of 300");
    expect(oks).toBeLessThanOrEqual(1);
    expect(mismatches + oks).toBe(compared);
    expect(mismatches + oks + locked).toBe(301);
    // The budget is gone (10 failures charged, or 9 and the right code was among the first ten).
    if (oks === 0) {
      expect(await verify(tokens, "ben-burst", "guide-right-2", right)).toEqual({
        ok: false,
        reason: "locked",
      });
    }
    expect(await verify(tokens, "ben-burst", "guide-after", wrong(999))).toEqual({
      ok: false,
      reason: "locked",
    });
    expect(watched.evaluated()).toBe(compared);
  });
}

const backends = await storeMatrix();
for (const backend of backends) {
  const title = `app mode on ${backend.name}`;
  if (backend.probe === undefined) describe(title, () => suite(backend));
  else describeWithService(backend.probe, title, () => suite(backend));
}
