import { describe, expect, it } from "vitest";
import { PROBLEM_KINDS, PROBLEM_TYPE_BASE } from "../../src/http/index.js";
import { base32Decode, totp } from "../../src/otp/index.js";
import { httpFixture } from "./fixture.js";

const problemOf = async (res: Response) => {
  expect(res.headers.get("content-type")).toMatch(/^application\/problem\+json/);
  return (await res.json()) as { type: string; title: string; status: number; [k: string]: unknown };
};

describe("attendant handler: the flow from guide to confirmed", () => {
  it("shows the guide, its masked contacts, sends, reports delivery and confirms with the code", async () => {
    const fx = await httpFixture();
    const guide = await fx.asAttendant("/guides/G-1");
    expect(guide.status).toBe(200);
    expect(await guide.json()).toMatchObject({
      state: "authorized",
      canRequestToken: true,
      canConfirm: true,
    });

    const contacts = (await (await fx.asAttendant("/guides/G-1/contacts")).json()) as {
      contacts: { id: string; masked: string }[];
    };
    expect(contacts.contacts).toEqual([expect.objectContaining({ id: "sms-1", masked: "(43) 9****-0001" })]);
    expect(JSON.stringify(contacts)).not.toContain("99999-0001");

    const sent = await fx.asAttendant("/guides/G-1/token", { json: { contactId: "sms-1" } });
    expect(sent.status).toBe(201);
    const sentBody = (await sent.json()) as { issued: Record<string, unknown> };
    expect(sentBody.issued).toMatchObject({ channel: "sms", deliveredTo: "(43) 9****-0001" });
    const code = fx.outbox.lastCodeFor("BEN-1")!;
    expect(JSON.stringify(sentBody)).not.toContain(code);

    const delivery = await (await fx.asAttendant("/guides/G-1/delivery")).json();
    expect(delivery).toMatchObject({ guideId: "G-1", status: "delivered", channel: "sms" });

    const wrong = await fx.asAttendant("/guides/G-1/confirm", {
      json: { code: code === "000000" ? "111111" : "000000" },
    });
    expect(wrong.status).toBe(422);
    expect(await problemOf(wrong)).toMatchObject({
      type: `${PROBLEM_TYPE_BASE}token-rejected`,
      reason: "mismatch",
      attemptsLeft: 4,
    });

    const confirmed = await fx.asAttendant("/guides/G-1/confirm", { json: { code } });
    expect(confirmed.status).toBe(200);
    const body = (await confirmed.json()) as { state: string; tiss: { validation: unknown } };
    expect(body.state).toBe("confirmed");
    expect(body.tiss.validation).toEqual({ codValidacao: expect.any(String) });

    const again = await fx.asAttendant("/guides/G-1/token", { json: {} });
    expect(again.status).toBe(409);
    expect((await problemOf(again)).type).toBe(`${PROBLEM_TYPE_BASE}attendance-refused`);
  });

  it("confirms without a token with a table 74 reason, and refuses an unknown reason", async () => {
    const fx = await httpFixture();
    const bad = await fx.asAttendant("/guides/G-1/confirm-without-token", {
      json: { absence: { reason: "99", justification: "x" } },
    });
    expect(bad.status).toBe(400);
    const ok = await fx.asAttendant("/guides/G-1/confirm-without-token", {
      json: { absence: { reason: "07", justification: "Beneficiária sem celular" } },
    });
    expect(ok.status).toBe(200);
    expect(await ok.json()).toMatchObject({
      state: "confirmed",
      tiss: { validation: { ausenciaCodValidacao: "07" } },
    });
  });

  it("hides another provider's guide (404) and needs authentication (401)", async () => {
    const fx = await httpFixture();
    expect((await fx.asAttendant("/guides/G-1", {}, "PRV-2")).status).toBe(404);
    const anonymous = await fx.attendant(new Request(`${fx.base}/api/attendant/guides/G-1`));
    expect(anonymous.status).toBe(401);
    expect((await problemOf(anonymous)).type).toBe(`${PROBLEM_TYPE_BASE}unauthenticated`);
    expect((await fx.asAttendant("/guides/NOPE")).status).toBe(404);
  });
});

describe("beneficiary handler", () => {
  it("shows the history, reports an unrequested code (revoked), enrolls the app and its code confirms", async () => {
    const fx = await httpFixture();
    await fx.asAttendant("/guides/G-1/token", { json: {} });
    const history = (await (await fx.asBeneficiary("/history")).json()) as { events: { type: string }[] };
    expect(history.events.map((e) => e.type)).toContain("token.issued");
    expect((await fx.asBeneficiary("/history", {}, "BEN-2")).status).toBe(200);
    expect(
      ((await (await fx.asBeneficiary("/history", {}, "BEN-2")).json()) as { events: [] }).events,
    ).toEqual([]);

    const report = await fx.asBeneficiary("/report-unrequested", { json: { guideId: "G-1" } });
    expect(await report.json()).toMatchObject({ revoked: true });
    const code = fx.outbox.lastCodeFor("BEN-1")!;
    const after = await fx.asAttendant("/guides/G-1/confirm", { json: { code } });
    expect(after.status).toBe(422);
    expect(await after.json()).toMatchObject({ reason: "revoked" });

    const enrolled = await fx.asBeneficiary("/app/enroll", { json: {} });
    expect(enrolled.status).toBe(201);
    const { secret, otpauthUri } = (await enrolled.json()) as { secret: string; otpauthUri: string };
    expect(otpauthUri).toMatch(/^otpauth:\/\/totp\//);
    await fx.open("G-2");
    const appCode = totp(base32Decode(secret), { timeMs: fx.clock.now() });
    const confirmed = await fx.asAttendant("/guides/G-2/confirm", { json: { code: appCode, mode: "app" } });
    expect(confirmed.status).toBe(200);
    expect(await confirmed.json()).toMatchObject({ state: "confirmed" });
  });
});

describe("problem details", () => {
  it("titles in pt-BR by default and in English on request; every kind has both", async () => {
    const fx = await httpFixture();
    const pt = await problemOf(await fx.asAttendant("/guides/NOPE"));
    expect(pt.title).toBe(PROBLEM_KINDS["not-found"].title["pt-BR"]);
    const en = await problemOf(
      await fx.asAttendant("/guides/NOPE", { headers: { "accept-language": "en-US,en;q=0.8" } }),
    );
    expect(en.title).toBe("Not found");
    for (const kind of Object.values(PROBLEM_KINDS)) {
      expect(kind.title["pt-BR"]).not.toBe(kind.title.en);
    }
  });
});
