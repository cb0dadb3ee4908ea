/**
 * The call centre's view of the limits and the lockout reset, on every store: a family member's ten mistypes
 * lock a beneficiary out; the call centre reads why and until when, lifts it, and the reset is in the history.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { InvalidArgumentError, LockedOutError, RateLimitedError } from "../../src/errors.js";
import { createTokenService } from "../../src/service/token-service.js";
import { FakeClock, OutboxNotifier, seededRandom } from "../../src/testing/fakes.js";
import { describeWithService, uniqueName } from "../helpers/services.js";
import { type Backend, type OpenedStore, storeMatrix } from "../helpers/store-matrix.js";
import { adult, PEPPER, T0 } from "../unit/service/helpers.js";

const DAY_MS = 86_400_000;
const wrong = (code: string) => String((Number(code) + 1) % 1_000_000).padStart(6, "0");

function suite(backend: Backend): void {
  let opened: OpenedStore;
  beforeAll(async () => {
    opened = await backend.open();
  });
  afterAll(() => opened.close());

  const setup = () => {
    const clock = new FakeClock(T0);
    const outbox = new OutboxNotifier();
    const tokens = createTokenService({
      store: opened.store,
      notifier: outbox,
      pepper: PEPPER,
      clock,
      random: seededRandom(11),
    });
    // Unique ids: the server backends are shared by parallel runs.
    const ben = adult(uniqueName("ben"));
    const g = (n: number) => ({ id: `${ben.id}-g${n}`, providerId: "prov-1" });
    return { clock, outbox, tokens, ben, g };
  };

  /** Two codes, five mistypes each: the beneficiary's 10 failures (the default budget). */
  async function lockOut(s: ReturnType<typeof setup>): Promise<void> {
    for (let n = 0; n < 2; n++) {
      await s.tokens.issue({ guide: s.g(n), beneficiary: s.ben });
      const code = s.outbox.lastCodeFor(s.ben.id)!;
      for (let i = 0; i < 5; i++) {
        await s.tokens.verify({ guideId: s.g(n).id, providerId: "prov-1", code: wrong(code) });
      }
      s.clock.advance(1_000);
    }
  }

  it("a family member's 10 mistypes lock the beneficiary; the call centre reads why and until when", async () => {
    const s = setup();
    await expect(s.tokens.limits(s.ben.id)).resolves.toMatchObject({
      reason: undefined,
      untilMs: undefined,
      failures: { count: 0, max: 10, limited: false, resetAtMs: undefined },
    });
    await lockOut(s);
    await expect(s.tokens.issue({ guide: s.g(2), beneficiary: s.ben })).rejects.toBeInstanceOf(
      LockedOutError,
    );
    const limits = await s.tokens.limits(s.ben.id);
    // The window opened at the first mistype (T0), 24 h long.
    expect(limits).toEqual({
      reason: "locked_out",
      untilMs: T0 + DAY_MS,
      failures: { count: 10, max: 10, limited: true, resetAtMs: T0 + DAY_MS },
    });
  });

  it("resetLockout lifts it, records lockout.reset with the reason, and the beneficiary can be issued again", async () => {
    const s = setup();
    await lockOut(s);
    const result = await s.tokens.resetLockout(s.ben.id, { reason: "call_centre: relative mistyped" });
    expect(result).toEqual({ wasLocked: true, cleared: 10 });
    expect((await s.tokens.limits(s.ben.id)).failures).toEqual({
      count: 0,
      max: 10,
      limited: false,
      resetAtMs: undefined,
    });
    await expect(s.tokens.issue({ guide: s.g(2), beneficiary: s.ben })).resolves.toMatchObject({
      status: "sent",
    });
    const history = await s.tokens.history(s.ben.id);
    const reset = history.find((e) => e.type === "lockout.reset");
    expect(reset).toMatchObject({
      beneficiaryId: s.ben.id,
      reason: "call_centre: relative mistyped",
      atMs: T0 + 2_000,
    });
    // A reset of a beneficiary who is not locked is harmless and still recorded.
    await expect(s.tokens.resetLockout(s.ben.id, { reason: "again" })).resolves.toEqual({
      wasLocked: false,
      cleared: 0,
    });
  });

  it("a guide's cooldown and sends read with the guide, in the order an issue checks them", async () => {
    const s = setup();
    await s.tokens.issue({ guide: s.g(0), beneficiary: s.ben });
    const cooling = await s.tokens.limits(s.ben.id, s.g(0).id);
    expect(cooling).toMatchObject({
      reason: "cooldown",
      untilMs: T0 + 60_000,
      cooldown: { count: 1, max: 1, limited: true, resetAtMs: T0 + 60_000 },
      sends: { count: 1, max: 5, limited: false, resetAtMs: T0 + 30 * 60_000 },
    });
    await expect(s.tokens.issue({ guide: s.g(0), beneficiary: s.ben })).rejects.toBeInstanceOf(
      RateLimitedError,
    );
    // At the cooldown's end exactly, the guide is free again.
    s.clock.set(T0 + 60_000);
    await expect(s.tokens.limits(s.ben.id, s.g(0).id)).resolves.toMatchObject({
      reason: undefined,
      cooldown: { count: 0, limited: false },
    });
    for (let i = 0; i < 4; i++) {
      s.clock.advance(60_000);
      await s.tokens.issue({ guide: s.g(0), beneficiary: s.ben });
    }
    s.clock.advance(60_000);
    await expect(s.tokens.limits(s.ben.id, s.g(0).id)).resolves.toMatchObject({
      reason: "sends_per_guide",
      untilMs: T0 + 30 * 60_000,
    });
    // resetLockout does not touch the guide's limits.
    await s.tokens.resetLockout(s.ben.id, { reason: "test" });
    await expect(s.tokens.limits(s.ben.id, s.g(0).id)).resolves.toMatchObject({ reason: "sends_per_guide" });
  });

  it("refuses bad ids and reasons with InvalidArgumentError, changing nothing", async () => {
    const s = setup();
    await lockOut(s);
    for (const bad of ["", "a\u0000b", "x".repeat(129)]) {
      await expect(s.tokens.limits(bad)).rejects.toBeInstanceOf(InvalidArgumentError);
      await expect(s.tokens.resetLockout(bad, { reason: "r" })).rejects.toBeInstanceOf(InvalidArgumentError);
    }
    for (const reason of ["", "x".repeat(65), "a\r\nb"]) {
      await expect(s.tokens.resetLockout(s.ben.id, { reason })).rejects.toBeInstanceOf(InvalidArgumentError);
    }
    // @ts-expect-error: the reason is required
    await expect(s.tokens.resetLockout(s.ben.id, {})).rejects.toBeInstanceOf(InvalidArgumentError);
    expect((await s.tokens.limits(s.ben.id)).reason).toBe("locked_out");
  });
}

const backends = await storeMatrix();
for (const backend of backends) {
  const title = `limits and lockout reset on ${backend.name}`;
  if (backend.probe === undefined) describe(title, () => suite(backend));
  else describeWithService(backend.probe, title, () => suite(backend));
}
