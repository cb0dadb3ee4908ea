import { describe, expect, it } from "vitest";
import {
  AttendanceRefusedError,
  GuideConflictError,
  GuideNotFoundError,
  GuideTransitionError,
  toTissValidation,
} from "../../../src/index.js";
import { adult, deskFixture, guideInput } from "../../helpers/desk.js";

const DAY = 86_400_000;
const authorizeInput = (guideId: string, validUntil = "2026-12-31") => ({
  guideId,
  senha: "CO2026000001",
  validUntil,
});

describe("attendance desk", () => {
  it("refuses a code for a guide that is not authorized yet, and never sends one", async () => {
    const { desk, outbox } = deskFixture();
    await desk.open({ guide: guideInput("G-1"), beneficiaryId: "BEN-1" });
    await expect(desk.requestToken({ guideId: "G-1", beneficiary: adult() })).rejects.toMatchObject({
      code: "ATTENDANCE_REFUSED",
      reason: "not_confirmable",
    });
    expect(outbox.sendCount).toBe(0);
  });

  it("confirms with the code in one call and refuses a second confirmation and a code after billing", async () => {
    const { desk, outbox } = deskFixture();
    await desk.open({ guide: guideInput("G-2"), beneficiaryId: "BEN-1" });
    await desk.authorize(authorizeInput("G-2"));
    const { issued } = await desk.requestToken({ guideId: "G-2", beneficiary: adult() });
    expect(issued.channel).toBe("sms");
    const code = outbox.lastCodeFor("BEN-1")!;
    const wrong = code === "000000" ? "000001" : "000000";
    const miss = await desk.confirm({ guideId: "G-2", providerId: "PRV-1", code: wrong });
    expect(miss).toEqual({ ok: false, reason: "mismatch", attemptsLeft: 4 });
    const hit = await desk.confirm({ guideId: "G-2", providerId: "PRV-1", code });
    expect(hit.ok && hit.attendance.guide.state).toBe("confirmed");
    expect(hit.ok && toTissValidation(hit.attendance.guide)).toEqual({ codValidacao: code });
    await expect(desk.confirm({ guideId: "G-2", providerId: "PRV-1", code })).rejects.toBeInstanceOf(
      GuideTransitionError,
    );
    const billed = await desk.bill({ guideId: "G-2", batchId: "LOTE-1" });
    expect(billed.guide.state).toBe("billed");
    await expect(desk.bill({ guideId: "G-2", batchId: "LOTE-2" })).rejects.toBeInstanceOf(
      GuideTransitionError,
    );
    await expect(desk.requestToken({ guideId: "G-2", beneficiary: adult() })).rejects.toMatchObject({
      reason: "not_confirmable",
    });
    expect(outbox.sendCount).toBe(1);
  });

  it.each([
    ["cancel", "cancelled"],
    ["expire", "expired"],
  ] as const)("%s revokes the live code in the same step", async (what, state) => {
    const { desk, outbox, clock, tokens } = deskFixture();
    await desk.open({ guide: guideInput("G-3"), beneficiaryId: "BEN-1" });
    await desk.authorize(authorizeInput("G-3", "2026-11-23"));
    await desk.requestToken({ guideId: "G-3", beneficiary: adult() });
    const code = outbox.lastCodeFor("BEN-1")!;
    if (what === "cancel") {
      expect((await desk.cancel({ guideId: "G-3" })).guide.state).toBe(state);
    } else {
      clock.advance(DAY); // past the senha's day
      expect((await desk.expireIfDue({ guideId: "G-3" })).guide.state).toBe(state);
    }
    const result = await tokens.verify({ guideId: "G-3", providerId: "PRV-1", code });
    expect(result.ok).toBe(false);
  });

  it("a code never outlives the senha: it expires at the end of the senha's day", async () => {
    const { desk, clock } = deskFixture();
    await desk.open({ guide: guideInput("G-4"), beneficiaryId: "BEN-1" });
    await desk.authorize(authorizeInput("G-4", "2026-11-23"));
    clock.set(Date.UTC(2026, 10, 24, 2, 50)); // 23:50 in São Paulo, 10 minutes before the senha ends
    const { issued } = await desk.requestToken({ guideId: "G-4", beneficiary: adult() });
    expect(issued.expiresAtMs).toBe(Date.UTC(2026, 10, 24, 3, 0));
  });

  it("confirms without a token with a table 74 reason, revoking a live code", async () => {
    const { desk, outbox, tokens } = deskFixture();
    await desk.open({ guide: guideInput("G-5"), beneficiaryId: "BEN-1" });
    await desk.authorize(authorizeInput("G-5"));
    await desk.requestToken({ guideId: "G-5", beneficiary: adult() });
    const code = outbox.lastCodeFor("BEN-1")!;
    await expect(desk.confirmWithoutToken({ guideId: "G-5", providerId: "PRV-1" })).rejects.toMatchObject({
      reason: "token_required",
    });
    const a = await desk.confirmWithoutToken({
      guideId: "G-5",
      providerId: "PRV-1",
      absence: { reason: "07", justification: "não possui celular" },
    });
    expect(toTissValidation(a.guide)).toEqual({ ausenciaCodValidacao: "07" });
    expect((await tokens.verify({ guideId: "G-5", providerId: "PRV-1", code })).ok).toBe(false);
  });

  it("requires a positive eligibility check before authorization when the policy says so", async () => {
    const { desk } = deskFixture({ eligibilityRequired: true });
    await desk.open({ guide: guideInput("G-6"), beneficiaryId: "BEN-1" });
    await expect(desk.authorize(authorizeInput("G-6"))).rejects.toMatchObject({
      reason: "eligibility_required",
    });
    await desk.recordEligibility({ guideId: "G-6", eligible: false, reason: "carência" });
    await expect(desk.authorize(authorizeInput("G-6"))).rejects.toMatchObject({ reason: "not_eligible" });
    const ok = await desk.recordEligibility({ guideId: "G-6", eligible: true, reason: "ativo" });
    expect(ok.eligibility).toMatchObject({ eligible: true, reason: "ativo" });
    expect((await desk.authorize(authorizeInput("G-6"))).guide.state).toBe("authorized");
  });

  it("a guide outside the rollout confirms without proof and carries neither TISS field", async () => {
    const { desk } = deskFixture({ rollout: (g) => g.provider.code !== "PRV-LEGACY" });
    await desk.open({
      guide: guideInput("G-7", { provider: { code: "PRV-LEGACY" } }),
      beneficiaryId: "BEN-1",
    });
    const a = await desk.authorize(authorizeInput("G-7"));
    expect(a).toMatchObject({ tokenRequired: false, canRequestToken: false, canConfirm: true });
    await expect(desk.requestToken({ guideId: "G-7", beneficiary: adult() })).rejects.toMatchObject({
      reason: "token_not_required",
    });
    const c = await desk.confirmWithoutToken({ guideId: "G-7", providerId: "PRV-LEGACY" });
    expect(c.guide.confirmation?.kind).toBe("not_required");
    expect(toTissValidation(c.guide)).toBeUndefined();
  });

  it("refuses another beneficiary's contacts, another provider and unknown guides with typed errors", async () => {
    const { desk } = deskFixture();
    await desk.open({ guide: guideInput("G-8"), beneficiaryId: "BEN-1" });
    await desk.authorize(authorizeInput("G-8"));
    await expect(desk.requestToken({ guideId: "G-8", beneficiary: adult("BEN-2") })).rejects.toBeInstanceOf(
      AttendanceRefusedError,
    );
    await expect(
      desk.confirmWithoutToken({
        guideId: "G-8",
        providerId: "PRV-2",
        absence: { reason: "02", justification: "urgência" },
      }),
    ).rejects.toMatchObject({ reason: "wrong_provider" });
    await expect(desk.get("NOPE")).rejects.toBeInstanceOf(GuideNotFoundError);
    await expect(desk.open({ guide: guideInput("G-8"), beneficiaryId: "BEN-1" })).rejects.toBeInstanceOf(
      GuideConflictError,
    );
  });

  it("tells a return visit: a consultation at the same provider within 30 days", async () => {
    const { desk, clock } = deskFixture();
    await desk.open({ guide: guideInput("G-9"), beneficiaryId: "BEN-1" });
    await desk.authorize(authorizeInput("G-9"));
    await desk.confirmWithoutToken({
      guideId: "G-9",
      providerId: "PRV-1",
      absence: { reason: "02", justification: "urgência" },
    });
    clock.advance(10 * DAY);
    await desk.open({ guide: guideInput("G-10"), beneficiaryId: "BEN-1" });
    expect(await desk.isReturnVisit({ guideId: "G-10" })).toBe(true);
    clock.advance(30 * DAY);
    expect(await desk.isReturnVisit({ guideId: "G-10" })).toBe(false);
  });
});
