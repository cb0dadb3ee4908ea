import { describe, expect, it } from "vitest";
import {
  contextForChannel,
  createGuide,
  createTokenService,
  InvalidArgumentError,
  MemoryTokenStore,
  renderTokenMessage,
  transition,
} from "../../../src/index.js";
import { FakeClock, OutboxNotifier } from "../../../src/testing/index.js";
import { adult, DESK_T0, guideInput } from "../../helpers/desk.js";
import { testPepper } from "../../helpers/keys.js";

const context = { guideRef: "G-1", providerName: "Clínica <Exemplo>", procedureSummary: "Consulta eletiva" };

function service(
  pepper: string | string[] = testPepper("e"),
  messageContext?: { sms: ("guideRef" | "providerName")[] },
) {
  const clock = new FakeClock(DESK_T0);
  const outbox = new OutboxNotifier();
  const tokens = createTokenService({
    store: new MemoryTokenStore(),
    notifier: outbox,
    pepper,
    clock,
    ...(messageContext ? { messageContext } : {}),
  });
  return { clock, outbox, tokens };
}

describe("message context", () => {
  it("keeps per channel only the fields its policy allows", () => {
    expect(contextForChannel(context, "app")).toEqual(context);
    expect(contextForChannel(context, "sms")).toEqual({ providerName: "Clínica <Exemplo>" });
    expect(contextForChannel(context, "sms", { sms: [] })).toBeUndefined();
    expect(contextForChannel(undefined, "email")).toBeUndefined();
  });

  it("the service filters the issue's context per channel (configurable)", async () => {
    const { tokens, outbox } = service(testPepper("e"), { sms: ["guideRef"] });
    await tokens.issue({ guide: { id: "G-1", providerId: "P" }, beneficiary: adult(), context });
    expect(outbox.last()!.context).toEqual({ guideRef: "G-1" });
    await expect(
      tokens.issue({
        guide: { id: "G-2", providerId: "P" },
        beneficiary: adult(),
        context: { cpf: "1" } as never,
      }),
    ).rejects.toBeInstanceOf(InvalidArgumentError);
  });

  it("the app and e-mail texts say what the code confirms, escaped in HTML; SMS stays as it was", () => {
    const base = { code: "123456", ttlSeconds: 1800, locale: "pt-BR", context } as const;
    expect(renderTokenMessage({ ...base, channel: "app" }).text).toContain(
      "Ele confirma: Consulta eletiva em Clínica <Exemplo> (guia G-1).",
    );
    const mail = renderTokenMessage({ ...base, channel: "email" });
    expect(mail.html).toContain("Clínica &lt;Exemplo&gt;");
    expect(mail.html).not.toContain("<Exemplo>");
    expect(renderTokenMessage({ ...base, channel: "sms" }).text).toBe(
      renderTokenMessage({ code: "123456", ttlSeconds: 1800, locale: "pt-BR", channel: "sms" }).text,
    );
    expect(renderTokenMessage({ ...base, channel: "app", locale: "en" }).text).toContain(
      "It confirms: Consulta eletiva at Clínica <Exemplo> (guide G-1).",
    );
    expect(
      renderTokenMessage({ code: "1", ttlSeconds: 60, locale: "pt-BR", channel: "app" }).text,
    ).not.toContain("confirma");
  });
});

describe("report reference", () => {
  it("resolves to the guide and beneficiary, survives a pepper rotation, and refuses forgeries", async () => {
    const old = service(testPepper("o"));
    await old.tokens.issue({ guide: { id: "G-9", providerId: "P" }, beneficiary: adult("B-9") });
    const ref = old.outbox.last()!.reportRef!;
    expect(ref).not.toContain("G-9"); // encoded, not readable at a glance
    // the same store, a rotated pepper list: the old reference still resolves
    const rotated = createTokenService({
      store: new MemoryTokenStore(),
      notifier: new OutboxNotifier(),
      pepper: [testPepper("n"), testPepper("o")],
      clock: old.clock,
    });
    await expect(rotated.reportUnrequested({ reportRef: ref })).resolves.toEqual({ revoked: false });
    expect((await rotated.history("B-9"))[0]).toMatchObject({
      type: "token.reported_unrequested",
      guideId: "G-9",
    });
    // another pepper cannot resolve it; a tampered one fails
    const other = service(testPepper("x"));
    await expect(other.tokens.reportUnrequested({ reportRef: ref })).rejects.toBeInstanceOf(
      InvalidArgumentError,
    );
    const [g, b, tag] = ref.split(".");
    const forged = `${Buffer.from("G-10").toString("base64url")}.${b}.${tag}`;
    await expect(old.tokens.reportUnrequested({ reportRef: forged })).rejects.toBeInstanceOf(
      InvalidArgumentError,
    );
    await expect(old.tokens.reportUnrequested({ reportRef: `${g}.${b}` })).rejects.toBeInstanceOf(
      InvalidArgumentError,
    );
    await expect(old.tokens.reportUnrequested({ reportRef: "%%%.%%%.%%%" })).rejects.toBeInstanceOf(
      InvalidArgumentError,
    );
    expect(await old.tokens.reportUnrequested({ reportRef: ref })).toMatchObject({ revoked: true });
  });
});

describe("issue's notAfterMs", () => {
  it("caps the code's life, at the instant and not 1 ms past", async () => {
    const { tokens, outbox, clock } = service();
    const issued = await tokens.issue({
      guide: { id: "G-5", providerId: "P" },
      beneficiary: adult(),
      notAfterMs: DESK_T0 + 60_000,
    });
    expect(issued.expiresAtMs).toBe(DESK_T0 + 60_000);
    expect(outbox.last()!.ttlSeconds).toBe(60);
    const code = outbox.last()!.code;
    clock.set(DESK_T0 + 60_000);
    expect(await tokens.verify({ guideId: "G-5", providerId: "P", code })).toMatchObject({
      reason: "expired",
    });
    await expect(
      tokens.issue({ guide: { id: "G-6", providerId: "P" }, beneficiary: adult(), notAfterMs: DESK_T0 }),
    ).rejects.toBeInstanceOf(InvalidArgumentError);
  });
});

describe("guide machine's proofRequired", () => {
  it("confirms without proof only when told the token is not required", () => {
    const nowMs = DESK_T0;
    const g = transition(
      createGuide(guideInput("G-P")),
      { type: "authorize", senha: "S1", validUntil: "2026-12-31" },
      { nowMs },
    );
    expect(() => transition(g, { type: "confirm" }, { nowMs })).toThrow(/proof_required/);
    const c = transition(g, { type: "confirm" }, { nowMs, proofRequired: false });
    expect(c.confirmation).toEqual({ kind: "not_required", atMs: nowMs });
  });
});
