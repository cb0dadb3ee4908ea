import { createHmac } from "node:crypto";
import type { AddressInfo } from "node:net";
import { type ServerType, serve } from "@hono/node-server";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createApp, type RegistryEntry } from "../../examples/server/app.js";
import { createTokenService, MemoryTokenStore } from "../../src/index.js";
import { FakeClock, OutboxNotifier } from "../../src/testing/index.js";

const registry = new Map<string, RegistryEntry>([
  [
    "BEN-ADULT",
    {
      person: {
        id: "BEN-ADULT",
        birthDate: "1985-02-10",
        contacts: [
          { id: "sms-1", channel: "sms", address: "(43) 99999-0001" },
          { id: "mail-1", channel: "email", address: "pessoa.teste@example.com" },
        ],
      },
    },
  ],
]);

const guideInput = (id: string) => ({
  id,
  type: "consulta",
  character: "eletiva",
  beneficiary: { cardNumber: "0000111122223333" },
  provider: { code: "PRV-001", professional: { council: "CRM", number: "12345", uf: "PR", cbo: "225125" } },
  procedures: [{ tuss: "10101012", quantity: 1 }],
});

describe("examples/server over real HTTP", () => {
  const clock = new FakeClock(Date.UTC(2026, 10, 23, 12, 0, 0));
  const outbox = new OutboxNotifier();
  const tokens = createTokenService({
    store: new MemoryTokenStore(),
    notifier: outbox,
    pepper: "kQ7vZ2xR9mT4wL8pB3nY6cF1hJ5sD0gA7eU2iO9qWzM=",
    clock,
  });
  let server: ServerType;
  let base = "";

  beforeAll(async () => {
    const app = createApp({ tokens, clock, registry });
    await new Promise<void>((resolve) => {
      server = serve({ fetch: app.fetch, port: 0, hostname: "127.0.0.1" }, () => resolve());
    });
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  const call = async (method: string, path: string, body?: unknown, provider = "PRV-001") => {
    const res = await fetch(base + path, {
      method,
      headers: { "content-type": "application/json", "x-provider-code": provider },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    // biome-ignore lint/suspicious/noExplicitAny: JSON bodies of many shapes, asserted field by field
    return { status: res.status, type: res.headers.get("content-type"), json: (await res.json()) as any };
  };

  it("drives a guide from request to billing with a token", async () => {
    let r = await call("POST", "/guides", { beneficiaryId: "BEN-ADULT", guide: guideInput("G-100") });
    expect(r.status).toBe(201);
    expect(r.json.guide.state).toBe("requested");

    r = await call("POST", "/guides/G-100/authorize", { senha: "CO20260001", validUntil: "2026-12-31" });
    expect(r.json.guide.state).toBe("authorized");
    expect(r.json.tiss.statusSolicitacao).toBe("1");

    r = await call("GET", "/guides/G-100/contacts");
    expect(r.status).toBe(200);
    const sms = r.json.contacts.find((c: { channel: string }) => c.channel === "sms");
    expect(sms.masked).not.toContain("99999-0001");
    expect(JSON.stringify(r.json)).not.toContain("pessoa.teste@example.com");

    r = await call("POST", "/guides/G-100/token", { contactId: sms.id });
    expect(r.status).toBe(201);
    expect(r.json.channel).toBe("sms");
    const code = outbox.lastCodeFor("BEN-ADULT")!;
    expect(code).toMatch(/^\d{6}$/);
    expect(JSON.stringify(r.json)).not.toContain(code);

    const wrong = code === "000000" ? "000001" : "000000";
    r = await call("POST", "/guides/G-100/confirm", { code: wrong });
    expect(r.status).toBe(422);
    expect(r.type).toBe("application/problem+json");
    expect(r.json).toMatchObject({ reason: "mismatch", attemptsLeft: 4 });

    r = await call("POST", "/guides/G-100/confirm", { code }, "PRV-OTHER");
    expect(r.status).toBe(404); // another provider cannot even see the guide

    r = await call("POST", "/guides/G-100/confirm", { code });
    expect(r.status).toBe(200);
    expect(r.json.guide.state).toBe("confirmed");
    expect(r.json.tiss.validation).toEqual({ codValidacao: code });

    r = await call("POST", "/guides/G-100/confirm", { code });
    expect(r.status).toBe(409); // the guide is confirmed already
    expect(r.json.code).toBe("GUIDE_TRANSITION");

    r = await call("POST", "/guides/G-100/bill", { batchId: "LOTE-1" });
    expect(r.json.guide.state).toBe("billed");

    r = await call("GET", "/beneficiaries/BEN-ADULT/history");
    const types = r.json.events.map((e: { type: string }) => e.type);
    expect(types).toEqual(expect.arrayContaining(["token.issued", "token.delivered", "token.verified"]));
    expect(JSON.stringify(r.json)).not.toContain(code);
    expect(JSON.stringify(r.json)).not.toContain("99999-0001");
  });

  it("confirms without a token for a TISS table 74 reason, and refuses unknown reasons", async () => {
    await call("POST", "/guides", { beneficiaryId: "BEN-ADULT", guide: guideInput("G-101") });
    await call("POST", "/guides/G-101/authorize", { senha: "CO20260002", validUntil: "2026-12-31" });
    let r = await call("POST", "/guides/G-101/confirm", { absence: { reason: "09", justification: "x" } });
    expect(r.status).toBe(400);
    expect(r.json.issues.length).toBeGreaterThan(0);
    r = await call("POST", "/guides/G-101/confirm", {
      absence: { reason: "02", justification: "atendimento de urgência" },
    });
    expect(r.status).toBe(200);
    expect(r.json.tiss.validation).toEqual({ ausenciaCodValidacao: "02" });
  });

  it("lets the beneficiary report a code they did not request, and answers problems for bad input", async () => {
    await call("POST", "/guides", { beneficiaryId: "BEN-ADULT", guide: guideInput("G-102") });
    await call("POST", "/guides/G-102/authorize", { senha: "CO20260003", validUntil: "2026-12-31" });
    clock.advance(61_000);
    await call("POST", "/guides/G-102/token", {});
    const code = outbox.lastCodeFor("BEN-ADULT")!;
    let r = await call("POST", "/beneficiaries/BEN-ADULT/report-unrequested", { guideId: "G-102" });
    expect(r.status).toBe(200);
    expect(r.json.revoked).toBe(true);
    r = await call("POST", "/guides/G-102/confirm", { code });
    expect(r.json.reason).toBe("revoked");

    r = await call("POST", "/guides", {
      beneficiaryId: "BEN-ADULT",
      guide: { ...guideInput("G-103"), procedures: [] },
    });
    expect(r.status).toBe(400);
    expect(r.type).toBe("application/problem+json");
    r = await call("GET", "/guides/NOPE");
    expect(r.status).toBe(404);
  });

  it("refuses a code before authorization, revokes it on cancel, and takes a report by the message's reference", async () => {
    await call("POST", "/guides", { beneficiaryId: "BEN-ADULT", guide: guideInput("G-104") });
    const before = outbox.sendCount;
    let r = await call("POST", "/guides/G-104/token", {});
    expect(r.status).toBe(409);
    expect(r.json).toMatchObject({ code: "ATTENDANCE_REFUSED", reason: "not_confirmable" });
    expect(outbox.sendCount).toBe(before);

    await call("POST", "/guides/G-104/authorize", { senha: "CO20260004", validUntil: "2026-12-31" });
    clock.advance(61_000);
    r = await call("POST", "/guides/G-104/token", {});
    expect(r.status).toBe(201);
    const message = outbox.last()!;
    expect(message.channel).toBe("sms");
    expect(message.context).toBeUndefined(); // an SMS carries only the provider's name, and none was given
    r = await call("POST", "/beneficiaries/BEN-ADULT/report-unrequested", { reportRef: message.reportRef });
    expect(r.json.revoked).toBe(true);
    r = await call("POST", "/beneficiaries/BEN-ADULT/report-unrequested", {
      reportRef: `${message.reportRef}x`,
    });
    expect(r.status).toBe(400);

    clock.advance(61_000);
    await call("POST", "/guides/G-104/token", {});
    const code = outbox.lastCodeFor("BEN-ADULT")!;
    r = await call("POST", "/guides/G-104/cancel");
    expect(r.json.guide.state).toBe("cancelled");
    r = await call("POST", "/guides/G-104/confirm", { code });
    expect(r.status).toBe(409);
    expect((await tokens.verify({ guideId: "G-104", providerId: "PRV-001", code })).ok).toBe(false);
  });
});

describe("examples/server: the providers' status webhooks", () => {
  const secrets = {
    metaAppSecret: "made-up-meta-app-secret-0123456789",
    metaVerifyToken: "made-up-verify-token",
    twilioAuthToken: "made-up-twilio-auth-token-0123456",
    zenviaSecret: "made-up-zenvia-secret-0123456789abcdef",
    publicOrigin: "https://api.operadora.example",
  };
  const clock = new FakeClock(Date.UTC(2026, 10, 23, 12, 0, 0));
  const tokens = createTokenService({
    store: new MemoryTokenStore(),
    notifier: new OutboxNotifier(),
    pepper: "sRvWhKq8vZ3xR7wN1tK5jH9cB2sL6dF0gY4aU8iO3qWw=",
    clock,
  });
  const wired = createApp({ tokens, clock, registry, receipts: secrets });
  const bare = createApp({ tokens, clock, registry });
  const at = (path: string, init?: RequestInit) => new Request(`https://api.operadora.example${path}`, init);

  it("answers Meta's handshake, refuses forged and unsigned callbacks, and is absent without secrets", async () => {
    const hello = await wired.fetch(
      at("/receipts/whatsapp?hub.mode=subscribe&hub.verify_token=made-up-verify-token&hub.challenge=42"),
    );
    expect(hello.status).toBe(200);
    expect(await hello.text()).toBe("42");
    const body = JSON.stringify({ object: "whatsapp_business_account", entry: [] });
    const forged = await wired.fetch(
      at("/receipts/whatsapp", {
        method: "POST",
        body,
        headers: { "content-type": "application/json", "x-hub-signature-256": `sha256=${"0".repeat(64)}` },
      }),
    );
    expect(forged.status).toBe(401);
    const unsigned = await wired.fetch(at("/receipts/twilio", { method: "POST", body: "MessageSid=SM1" }));
    expect(unsigned.status).toBe(401);
    const signed = await wired.fetch(
      at("/receipts/whatsapp", {
        method: "POST",
        body,
        headers: {
          "content-type": "application/json",
          "x-hub-signature-256": `sha256=${createHmac("sha256", secrets.metaAppSecret).update(body).digest("hex")}`,
        },
      }),
    );
    expect(signed.status).toBe(200);
    expect((await bare.fetch(at("/receipts/whatsapp", { method: "POST", body }))).status).toBe(404);
  });
});
