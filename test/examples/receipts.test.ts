/**
 * examples/receipts.ts: the narrated run, and its handler mounted on a loopback server receiving Twilio and
 * Zenvia callbacks (valid, forged, replayed, malformed) for a token issued through the real SMS notifiers.
 */
import { execFileSync } from "node:child_process";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { describe, expect, it } from "vitest";
import { receiptsHandler } from "../../examples/receipts.js";
import { MemoryTokenStore } from "../../src/adapters/memory.js";
import { twilioSignature } from "../../src/adapters/receipts/index.js";
import { HttpSmsNotifier, twilioSms, zenviaSms } from "../../src/adapters/sms.js";
import { createTokenService } from "../../src/service/token-service.js";
import { startServer } from "../adapters/notifiers/_server.js";

const secrets = {
  metaAppSecret: "made-up-meta-secret-0000000000",
  metaVerifyToken: "made-up-verify",
  twilioAuthToken: "made-up-twilio-token-000000000",
  zenviaSecret: "made-up-zenvia-secret-0123456789abcdef",
  publicOrigin: "https://api.operadora.example",
};

/** Serves a Fetch-standard handler on 127.0.0.1. */
async function serve(handler: (request: Request) => Promise<Response>) {
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", async () => {
      const headers = new Headers();
      for (const [k, v] of Object.entries(req.headers)) if (typeof v === "string") headers.set(k, v);
      const response = await handler(
        new Request(`http://127.0.0.1${req.url}`, {
          method: req.method ?? "GET",
          headers,
          ...(req.method === "POST" ? { body: Buffer.concat(chunks) } : {}),
        }),
      );
      res.writeHead(response.status, { "content-type": "application/json" });
      res.end(await response.text());
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { url, close: () => new Promise<void>((r) => server.close(() => r())) };
}

const beneficiary = {
  id: "ben-ex",
  birthDate: "1979-09-09",
  contacts: [{ id: "cel", channel: "sms" as const, address: "(43) 99999-0003" }],
};

describe("examples/receipts.ts", () => {
  it("the narrated run: delivered on WhatsApp, failed receipt, replay ignored, forgery refused, fallback to SMS", () => {
    const out = execFileSync("npx", ["tsx", "examples/receipts.ts"], { encoding: "utf8", timeout: 60_000 });
    expect(out).toContain("issued: sent on whatsapp");
    expect(out).toContain('webhook: 200 {"applied":1,"ignored":[]}');
    expect(out).toContain('replay: 200 {"applied":0,"ignored":["replayed"]}');
    expect(out).toContain("forged: 401");
    expect(out).toContain("status: sent on sms to (43) 9****-0002");
  });

  it("Twilio and Zenvia callbacks through the handler on a loopback server", async () => {
    const gateway = await startServer((r) => ({
      status: 201,
      body: r.path.includes("Messages.json") ? { sid: "SM0000000000000000000000000000000A" } : { id: "zv-1" },
    }));
    const twilio = new HttpSmsNotifier({
      provider: twilioSms({
        accountSid: "AC0",
        authToken: secrets.twilioAuthToken,
        from: "+15550000000",
        baseUrl: gateway.url,
        statusCallbackUrl: `${secrets.publicOrigin}/receipts/twilio`,
      }),
    });
    const zenvia = new HttpSmsNotifier({
      provider: zenviaSms({ apiToken: "made-up", from: "conta", baseUrl: gateway.url }),
    });
    const pepper = "mAdEuPq8vZ3xR7wN1tK5jH9cB2sL6dF0gY4aU8iO3qWu=";
    const viaTwilio = createTokenService({
      store: new MemoryTokenStore(),
      notifier: { sms: twilio },
      pepper,
    });
    const viaZenvia = createTokenService({
      store: new MemoryTokenStore(),
      notifier: { sms: zenvia },
      pepper,
    });
    const twilioServer = await serve(receiptsHandler(viaTwilio, secrets));
    const zenviaServer = await serve(receiptsHandler(viaZenvia, secrets));
    try {
      // Twilio: the StatusCallback URL Twilio would call carries the reference; Twilio signs it.
      await viaTwilio.issue({ guide: { id: "G-T", providerId: "P" }, beneficiary });
      const callback = new URL(new URLSearchParams(gateway.requests[0]!.body).get("StatusCallback")!);
      const form = new URLSearchParams({
        AccountSid: "AC0",
        MessageSid: "SM0000000000000000000000000000000A",
        MessageStatus: "delivered",
      }).toString();
      const signature = twilioSignature(
        secrets.twilioAuthToken,
        callback.toString(),
        new URLSearchParams(form),
      );
      const postTwilio = (sig: string, body = form) =>
        fetch(`${twilioServer.url}${callback.pathname}${callback.search}`, {
          method: "POST",
          headers: { "content-type": "application/x-www-form-urlencoded", "x-twilio-signature": sig },
          body,
        });
      const ok = await postTwilio(signature);
      expect([ok.status, await ok.json()]).toEqual([200, { applied: 1, ignored: [] }]);
      const again = await postTwilio(signature);
      expect(await again.json()).toEqual({ applied: 0, ignored: ["replayed"] });
      expect((await postTwilio(`${signature.slice(0, -2)}AA`)).status).toBe(401);
      expect((await postTwilio(signature, `${form}&MessageStatus=failed`)).status).toBe(401);
      expect(await viaTwilio.deliveryStatus("G-T")).toMatchObject({ state: "sent", receipt: "delivered" });

      // Zenvia: externalId carries the reference; the secret header authenticates.
      await viaZenvia.issue({ guide: { id: "G-Z", providerId: "P" }, beneficiary });
      const externalId = JSON.parse(gateway.requests[1]!.body).externalId as string;
      const event = JSON.stringify({
        id: "evt-1",
        timestamp: new Date().toISOString(),
        type: "MESSAGE_STATUS",
        channel: "sms",
        messageId: "zv-1",
        externalId,
        messageStatus: { timestamp: new Date().toISOString(), code: "DELIVERED" },
      });
      const postZenvia = (secret: string, body = event) =>
        fetch(`${zenviaServer.url}/receipts/zenvia`, {
          method: "POST",
          headers: { "content-type": "application/json", "x-health-token-webhook-secret": secret },
          body,
        });
      expect(await (await postZenvia(secrets.zenviaSecret)).json()).toEqual({ applied: 1, ignored: [] });
      expect(await (await postZenvia(secrets.zenviaSecret)).json()).toEqual({
        applied: 0,
        ignored: ["replayed"],
      });
      expect((await postZenvia("wrong-secret-0123456789abcdefgh")).status).toBe(401);
      expect((await postZenvia(secrets.zenviaSecret, "{not json")).status).toBe(400);
      expect(await viaZenvia.deliveryStatus("G-Z")).toMatchObject({ state: "sent", receipt: "delivered" });
      // Meta's GET handshake.
      const hs = await fetch(
        `${zenviaServer.url}/receipts/whatsapp?hub.mode=subscribe&hub.verify_token=made-up-verify&hub.challenge=42`,
      );
      expect(await hs.text()).toBe("42");
    } finally {
      await Promise.all([gateway.close(), twilioServer.close(), zenviaServer.close()]);
    }
  });
});
