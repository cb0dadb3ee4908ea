/**
 * The four seed flows, step by step, through the public API only: the Amil beneficiary guide, the provider
 * portal for Amil, Unimed Londrina's app-or-SMS token, and the WhatsApp channel. Every person, card number
 * and phone here is made up.
 */
import { describe, expect, it } from "vitest";
import {
  AttendanceRefusedError,
  GuideTransitionError,
  InvalidArgumentError,
  renderTokenMessage,
  tokenRequiredFor,
  toTissStatus,
  toTissValidation,
} from "../../../src/index.js";
import { base32Decode, totp } from "../../../src/otp/index.js";
import { adult, DESK_T0, deskFixture, guideInput } from "../../helpers/desk.js";
import { testKeyBytes } from "../../helpers/keys.js";

const senha = (guideId: string) => ({ guideId, senha: "AU2026000777", validUntil: "2026-11-30" });

describe("seed flow 1: the Amil beneficiary guide (holder and dependent, app history)", () => {
  it("goes from the request through review to a confirmed SP/SADT guide the holder can follow", async () => {
    const { desk, outbox, tokens } = deskFixture();
    const holder = adult("AMIL-HOLDER", "app");
    const dependent = { id: "AMIL-DEP", birthDate: "2014-05-20", contacts: [] };
    // 1. the guide is requested for the dependent (a minor): state requested, TISS has no status yet
    const opened = await desk.open({
      guide: guideInput("AMIL-G-1", { type: "sp_sadt", procedures: [{ tuss: "40304361", quantity: 1 }] }),
      beneficiaryId: dependent.id,
      display: { providerName: "Laboratório Exemplo", procedureSummary: "Exame de sangue" },
    });
    expect(opened.guide.state).toBe("requested");
    // 2. the operator asks for documents, then authorizes (TISS status 5, then 1)
    expect(toTissStatus((await desk.review({ guideId: "AMIL-G-1", step: "request_documents" })).guide)).toBe(
      "5",
    );
    expect(toTissStatus((await desk.authorize(senha("AMIL-G-1"))).guide)).toBe("1");
    // 3. the code goes to the holder's app, saying what it confirms
    const { issued } = await desk.requestToken({
      guideId: "AMIL-G-1",
      beneficiary: dependent,
      guardian: holder,
    });
    expect(issued).toMatchObject({ recipient: "guardian", channel: "app" });
    const message = outbox.last()!;
    expect(message.context).toEqual({
      guideRef: "AMIL-G-1",
      providerName: "Laboratório Exemplo",
      procedureSummary: "Exame de sangue",
    });
    // 4. the holder's history shows the dependent's code, without the code
    const seen = await tokens.history(holder.id);
    expect(seen.map((e) => e.type)).toEqual(["token.delivered", "token.issued"]);
    expect(seen.every((e) => e.dependentId === dependent.id && e.guideId === "AMIL-G-1")).toBe(true);
    expect(JSON.stringify(seen)).not.toContain(message.code);
    // 5. at the lab the code confirms the guide; TISS carries it as codValidacao
    const done = await desk.confirm({ guideId: "AMIL-G-1", providerId: "PRV-1", code: message.code });
    expect(done.ok && toTissValidation(done.attendance.guide)).toEqual({ codValidacao: message.code });
  });

  it("lets the holder report a code they did not request from the message itself", async () => {
    const { desk, outbox, tokens } = deskFixture();
    const holder = adult("AMIL-HOLDER-2", "app");
    await desk.open({ guide: guideInput("AMIL-G-2"), beneficiaryId: holder.id });
    await desk.authorize(senha("AMIL-G-2"));
    await desk.requestToken({ guideId: "AMIL-G-2", beneficiary: holder });
    const message = outbox.last()!;
    // no guide id lookup: the reference in the message is enough
    expect(await tokens.reportUnrequested({ reportRef: message.reportRef! })).toMatchObject({
      revoked: true,
    });
    const attempt = await desk.confirm({ guideId: "AMIL-G-2", providerId: "PRV-1", code: message.code });
    expect(attempt).toEqual({ ok: false, reason: "revoked" });
    const history = await tokens.history(holder.id);
    expect(history.map((e) => e.type).slice(0, 3)).toEqual([
      "token.rejected",
      "token.reported_unrequested",
      "token.revoked",
    ]);
    // a forged or altered reference is refused, and changes nothing
    await expect(
      tokens.reportUnrequested({ reportRef: `${message.reportRef!.slice(0, -2)}xx` }),
    ).rejects.toBeInstanceOf(InvalidArgumentError);
  });
});

describe("seed flow 2: the provider portal for Amil", () => {
  it("eligibility → validation → token → 6 digits → confirmed → only then billable", async () => {
    const { desk, outbox, clock } = deskFixture({ eligibilityRequired: true });
    const patient = adult("AMIL-PORTAL-1");
    // 1. validation: a malformed TUSS code or an empty procedure list never becomes a guide
    await expect(
      desk.open({
        guide: guideInput("PORTAL-G-1", { procedures: [{ tuss: "12", quantity: 1 }] }),
        beneficiaryId: patient.id,
      }),
    ).rejects.toBeInstanceOf(InvalidArgumentError);
    await expect(
      desk.open({ guide: guideInput("PORTAL-G-1", { type: "invalid" as never }), beneficiaryId: patient.id }),
    ).rejects.toBeInstanceOf(InvalidArgumentError);
    await desk.open({ guide: guideInput("PORTAL-G-1"), beneficiaryId: patient.id });
    // 2. eligibility: the operator's answer, recorded with its reason and time; required before authorizing
    await expect(desk.authorize(senha("PORTAL-G-1"))).rejects.toMatchObject({
      reason: "eligibility_required",
    });
    const checked = await desk.recordEligibility({ guideId: "PORTAL-G-1", eligible: true, reason: "ativo" });
    expect(checked.eligibility).toEqual({ eligible: true, reason: "ativo", checkedAtMs: DESK_T0 });
    // 3. not billable before confirmation; no code before authorization
    await expect(desk.bill({ guideId: "PORTAL-G-1", batchId: "L-1" })).rejects.toBeInstanceOf(
      GuideTransitionError,
    );
    await expect(desk.requestToken({ guideId: "PORTAL-G-1", beneficiary: patient })).rejects.toBeInstanceOf(
      AttendanceRefusedError,
    );
    await desk.authorize(senha("PORTAL-G-1"));
    // 4. the token; the attendant types the 6 digits
    await desk.requestToken({ guideId: "PORTAL-G-1", beneficiary: patient });
    const code = outbox.lastCodeFor(patient.id)!;
    expect(code).toMatch(/^\d{6}$/);
    clock.advance(5 * 60_000);
    const confirmed = await desk.confirm({ guideId: "PORTAL-G-1", providerId: "PRV-1", code });
    expect(confirmed.ok && confirmed.attendance.guide.state).toBe("confirmed");
    // 5. only now billable, once
    const billed = await desk.bill({ guideId: "PORTAL-G-1", batchId: "L-1" });
    expect(billed.guide.state).toBe("billed");
    expect(billed.canConfirm).toBe(false);
    await expect(desk.bill({ guideId: "PORTAL-G-1", batchId: "L-2" })).rejects.toBeInstanceOf(
      GuideTransitionError,
    );
  });

  it("another provider's attendant cannot confirm with the right code", async () => {
    const { desk, outbox } = deskFixture();
    const patient = adult("AMIL-PORTAL-2");
    await desk.open({ guide: guideInput("PORTAL-G-2"), beneficiaryId: patient.id });
    await desk.authorize(senha("PORTAL-G-2"));
    await desk.requestToken({ guideId: "PORTAL-G-2", beneficiary: patient });
    const code = outbox.lastCodeFor(patient.id)!;
    const other = await desk.confirm({ guideId: "PORTAL-G-2", providerId: "PRV-OTHER", code });
    expect(other).toMatchObject({ ok: false, reason: "wrong_provider" });
    expect((await desk.get("PORTAL-G-2")).guide.state).toBe("authorized");
  });
});

describe("seed flow 3: Unimed Londrina, token in the app or by SMS, enabled per contract", () => {
  const secretsKey = { id: "k1", key: testKeyBytes("seven") };

  it("confirms with the app's TOTP code, or with an SMS code when the beneficiary has no app", async () => {
    const { desk, outbox, tokens, clock } = deskFixture({
      rollout: tokenRequiredFor(["UNIMED-LDA-1"]),
      service: { secretsKey },
    });
    const withApp = adult("UNI-APP");
    const enrollment = await tokens.enrollApp({ id: withApp.id });
    const provider = { code: "UNIMED-LDA-1" };
    await desk.open({ guide: guideInput("UNI-G-1", { provider }), beneficiaryId: withApp.id });
    await desk.authorize(senha("UNI-G-1"));
    const code = totp(base32Decode(enrollment.secret), { timeMs: clock.now() });
    const byApp = await desk.confirm({ guideId: "UNI-G-1", providerId: "UNIMED-LDA-1", code, mode: "app" });
    expect(byApp.ok && byApp.attendance.guide.confirmation).toMatchObject({ kind: "token", mode: "app" });
    expect(outbox.sendCount).toBe(0); // nothing was sent: the app made the code

    const bySms = adult("UNI-SMS");
    await desk.open({ guide: guideInput("UNI-G-2", { provider }), beneficiaryId: bySms.id });
    await desk.authorize(senha("UNI-G-2"));
    const { issued } = await desk.requestToken({ guideId: "UNI-G-2", beneficiary: bySms });
    expect(issued.channel).toBe("sms");
    const sms = outbox.last()!;
    expect(renderTokenMessage(sms).text.length).toBeLessThanOrEqual(160);
    const done = await desk.confirm({ guideId: "UNI-G-2", providerId: "UNIMED-LDA-1", code: sms.code });
    expect(done.ok && done.attendance.guide.confirmation).toMatchObject({ kind: "token", mode: "sent" });
  });

  it("a contract not yet enabled confirms without a token and bills with neither TISS field", async () => {
    const { desk } = deskFixture({ rollout: tokenRequiredFor(["UNIMED-LDA-1"]) });
    const provider = { code: "UNIMED-LDA-9" };
    await desk.open({ guide: guideInput("UNI-G-3", { provider }), beneficiaryId: "UNI-OLD" });
    const a = await desk.authorize(senha("UNI-G-3"));
    expect(a).toMatchObject({ tokenRequired: false, canRequestToken: false });
    const c = await desk.confirmWithoutToken({ guideId: "UNI-G-3", providerId: "UNIMED-LDA-9" });
    expect(toTissValidation(c.guide)).toBeUndefined();
    expect((await desk.bill({ guideId: "UNI-G-3", batchId: "L-9" })).guide.state).toBe("billed");
  });
});

describe("seed flow 4: the WhatsApp channel", () => {
  it("sends on WhatsApp with only the provider's name, confirms, and expires with the senha", async () => {
    const { desk, outbox, clock, tokens } = deskFixture();
    const patient = adult("WA-1", "whatsapp");
    await desk.open({
      guide: guideInput("WA-G-1"),
      beneficiaryId: patient.id,
      display: { providerName: "Clínica Exemplo", procedureSummary: "Consulta eletiva" },
    });
    await desk.authorize(senha("WA-G-1"));
    const { issued } = await desk.requestToken({
      guideId: "WA-G-1",
      beneficiary: patient,
      channel: "whatsapp",
    });
    expect(issued.channel).toBe("whatsapp");
    const message = outbox.last()!;
    expect(message.context).toEqual({ providerName: "Clínica Exemplo" }); // minimal on a chat app
    expect(message.to).toBe("+5543999990001");
    const ok = await desk.confirm({ guideId: "WA-G-1", providerId: "PRV-1", code: message.code });
    expect(ok.ok).toBe(true);

    // a second guide whose senha runs out: the desk expires it and its code dies with it
    await desk.open({ guide: guideInput("WA-G-2"), beneficiaryId: patient.id });
    await desk.authorize({ guideId: "WA-G-2", senha: "AU2026000778", validUntil: "2026-11-23" });
    clock.advance(61_000);
    await desk.requestToken({ guideId: "WA-G-2", beneficiary: patient, channel: "whatsapp" });
    const code = outbox.last()!.code;
    clock.set(Date.UTC(2026, 10, 24, 3, 0)); // the end of the senha's day in São Paulo
    expect((await desk.expireIfDue({ guideId: "WA-G-2" })).guide.state).toBe("expired");
    expect((await tokens.verify({ guideId: "WA-G-2", providerId: "PRV-1", code })).ok).toBe(false);
  });
});
