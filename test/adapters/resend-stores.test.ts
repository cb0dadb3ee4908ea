/**
 * Resend of the same code and late superseded codes, through the token service, on every store: memory, Redis
 * with both drivers, PostgreSQL on a server and on PGlite.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { rateLimitKeys } from "../../src/policy/rate-limit.js";
import { createTokenService } from "../../src/service/token-service.js";
import { FakeClock, OutboxNotifier } from "../../src/testing/fakes.js";
import { describeWithService } from "../helpers/services.js";
import { type Backend, type OpenedStore, storeMatrix } from "../helpers/store-matrix.js";
import { adult, MIN, PEPPER, T0 } from "../unit/service/helpers.js";

let guideCounter = 0;

function suite(backend: Backend): void {
  let opened: OpenedStore;
  beforeAll(async () => {
    opened = await backend.open();
  });
  afterAll(() => opened.close());

  const service = (clock: FakeClock, outbox: OutboxNotifier) =>
    createTokenService({ store: opened.store, notifier: outbox, pepper: PEPPER, clock });
  const fresh = () => {
    const n = guideCounter++;
    return { guide: { id: `guide-sup-${n}`, providerId: "prov-1" }, beneficiary: adult(`ben-sup-${n}`) };
  };
  /** A service on a fake clock, a new guide and beneficiary, and a first code issued for them. */
  const start = async () => {
    const clock = new FakeClock(T0);
    const outbox = new OutboxNotifier();
    const tokens = service(clock, outbox);
    const who = fresh();
    const first = await tokens.issue(who);
    return { clock, outbox, tokens, who, first, code: outbox.last()!.code };
  };
  const failures = (beneficiaryId: string, nowMs: number) =>
    opened.store.peek(rateLimitKeys.failures(beneficiaryId), nowMs);

  it("resend delivers the identical code, keeps the token, counts a send, and the first SMS still verifies", async () => {
    const { clock, outbox, tokens, who, first, code } = await start();
    // the cooldown is kept: a resend within 60 s is refused like an issue
    await expect(tokens.resend(who)).rejects.toMatchObject({ code: "RATE_LIMITED" });
    clock.advance(MIN);
    const again = await tokens.resend(who);
    expect(again).toMatchObject({ resent: true, tokenId: first.tokenId, expiresAtMs: first.expiresAtMs });
    expect(outbox.messages.length).toBe(2);
    expect(outbox.last()!.code).toBe(code);
    expect((await opened.store.peek(rateLimitKeys.sends(who.guide.id), clock.now())).count).toBe(2);
    // a new service instance (another process) re-creates the same code from the pepper alone
    clock.advance(MIN);
    const other = service(clock, outbox);
    expect(await other.resend(who)).toMatchObject({ resent: true, tokenId: first.tokenId });
    expect(outbox.last()!.code).toBe(code);
    clock.advance(MIN);
    const ok = await tokens.verify({ guideId: who.guide.id, providerId: "prov-1", code });
    expect(ok.ok).toBe(true);
    // the token is consumed: a resend now issues a new code
    clock.advance(MIN);
    const next = await tokens.resend(who);
    expect(next.resent).toBe(false);
    expect(next.tokenId).not.toBe(first.tokenId);
    expect(outbox.last()!.code).not.toBe(code);
  });

  it("resend re-sends 1 ms before the TTL; at the TTL and 1 ms past it issues a new code", async () => {
    for (const offset of [-1, 0, 1]) {
      const { clock, outbox, tokens, who, first, code } = await start();
      clock.set(first.expiresAtMs + offset);
      const again = await tokens.resend(who);
      expect(again.resent).toBe(offset < 0);
      expect(again.tokenId === first.tokenId).toBe(offset < 0);
      expect(outbox.last()!.code === code).toBe(offset < 0);
    }
  });

  it("resend for another beneficiary or provider of the guide issues a new code", async () => {
    const { clock, tokens, who, first } = await start();
    clock.advance(MIN);
    const other = await tokens.resend({ ...who, guide: { ...who.guide, providerId: "prov-2" } });
    expect(other.resent).toBe(false);
    expect(other.tokenId).not.toBe(first.tokenId);
  });

  it("a late superseded code answers superseded: the new token's attempts and the beneficiary's budget untouched", async () => {
    const { clock, outbox, tokens, who, first, code: oldCode } = await start();
    clock.advance(2 * MIN);
    await tokens.issue(who); // issue always makes a new code: it supersedes
    const newCode = outbox.last()!.code;
    expect(newCode).not.toBe(oldCode);
    const at = (ms: number) => {
      clock.set(ms);
      return tokens.verify({ guideId: who.guide.id, providerId: "prov-1", code: oldCode });
    };
    expect(await at(T0 + 3 * MIN)).toEqual({ ok: false, reason: "superseded" });
    // 1 ms before the old TTL ends: still superseded, still free
    expect(await at(first.expiresAtMs - 1)).toEqual({ ok: false, reason: "superseded" });
    expect((await opened.store.get(who.guide.id))?.attempts).toBe(0);
    expect((await failures(who.beneficiary.id, clock.now())).count).toBe(0);
    // at the old TTL it is an ordinary wrong code (and 1 ms past too)
    expect(await at(first.expiresAtMs)).toEqual({ ok: false, reason: "mismatch", attemptsLeft: 4 });
    expect(await at(first.expiresAtMs + 1)).toEqual({ ok: false, reason: "mismatch", attemptsLeft: 3 });
    expect((await failures(who.beneficiary.id, clock.now())).count).toBe(2);
    const ok = await tokens.verify({ guideId: who.guide.id, providerId: "prov-1", code: newCode });
    expect(ok.ok).toBe(true);
  });
}

const backends = await storeMatrix();
for (const backend of backends) {
  const title = `resend and superseded codes on ${backend.name}`;
  if (backend.probe === undefined) describe(title, () => suite(backend));
  else describeWithService(backend.probe, title, () => suite(backend));
}
