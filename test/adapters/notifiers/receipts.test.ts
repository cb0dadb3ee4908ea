/**
 * The status-callback parsers of health-token/receipts, fed by a loopback server that receives real HTTP
 * requests (raw body and headers exactly as sent), and the references the notifiers attach for them.
 */
import { createHmac } from "node:crypto";
import { createServer, type IncomingHttpHeaders } from "node:http";
import type { AddressInfo } from "node:net";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  parseTwilioStatusCallback,
  parseWhatsAppStatusWebhook,
  parseZenviaStatusWebhook,
  twilioSignature,
} from "../../../src/adapters/receipts/index.js";
import { genericSms, HttpSmsNotifier, twilioSms, zenviaSms } from "../../../src/adapters/sms.js";
import { WhatsAppNotifier } from "../../../src/adapters/whatsapp.js";
import { ReceiptRejectedError } from "../../../src/errors.js";
import type { TokenMessage } from "../../../src/ports/notifier.js";
import { startServer } from "./_server.js";

const META_SECRET = "made-up-meta-app-secret-for-tests";
const TWILIO_TOKEN = "made-up-twilio-auth-token-0000";
const ZENVIA_SECRET = "made-up-zenvia-secret-0123456789abcdef";
const NOW_MS = Date.UTC(2026, 10, 23, 12);
const NOW_S = NOW_MS / 1000;

/** A loopback receiver: keeps each request's raw body and headers, answers 204. */
interface Received {
  readonly url: string;
  readonly headers: IncomingHttpHeaders;
  readonly body: Buffer;
}
let receiverUrl = "";
const received: Received[] = [];
const receiver = createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on("data", (c: Buffer) => chunks.push(c));
  req.on("end", () => {
    received.push({ url: `${receiverUrl}${req.url}`, headers: req.headers, body: Buffer.concat(chunks) });
    res.writeHead(204).end();
  });
});
beforeAll(async () => {
  await new Promise<void>((r) => receiver.listen(0, "127.0.0.1", r));
  receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((r) => receiver.close(() => r())));

/** POSTs a callback to the loopback receiver and returns it as received. */
async function deliver(path: string, body: string, headers: Record<string, string>): Promise<Received> {
  const before = received.length;
  await fetch(`${receiverUrl}${path}`, { method: "POST", headers, body });
  expect(received.length).toBe(before + 1);
  return received[before]!;
}

function rejection(fn: () => unknown): ReceiptRejectedError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(ReceiptRejectedError);
    return error as ReceiptRejectedError;
  }
  throw new Error("expected a ReceiptRejectedError");
}

// ------------------------------------------------------------------ WhatsApp

function metaBody(statuses: object[]): string {
  return JSON.stringify({
    object: "whatsapp_business_account",
    entry: [
      {
        id: "WABA-TEST",
        changes: [
          {
            field: "messages",
            value: {
              messaging_product: "whatsapp",
              metadata: { display_phone_number: "15550000000", phone_number_id: "100000000000001" },
              statuses,
            },
          },
        ],
      },
    ],
  });
}
const metaSign = (body: string | Buffer, secret = META_SECRET) =>
  `sha256=${createHmac("sha256", secret).update(body).digest("hex")}`;

describe("parseWhatsAppStatusWebhook", () => {
  const status = (over: object = {}) => ({
    id: "wamid.TEST1",
    status: "delivered",
    timestamp: String(NOW_S - 10),
    recipient_id: "5543999990001",
    biz_opaque_callback_data: "ht1.tok.Zw",
    ...over,
  });
  const parse = (r: Received, over: object = {}) =>
    parseWhatsAppStatusWebhook({
      rawBody: r.body,
      headers: r.headers,
      appSecret: META_SECRET,
      nowMs: NOW_MS,
      ...over,
    });

  it("a valid signed callback maps sent, delivered, read and failed (with Meta's code); other statuses are skipped", async () => {
    const body = metaBody([
      status({ status: "sent" }),
      status(),
      status({ status: "read" }),
      status({ status: "failed", errors: [{ code: 131026, title: "Message undeliverable" }] }),
      status({ status: "played" }),
    ]);
    const r = await deliver("/whatsapp", body, {
      "content-type": "application/json",
      "x-hub-signature-256": metaSign(body),
    });
    const reports = parse(r);
    expect(reports.map((x) => [x.status, x.providerCode, x.dedupeKey])).toEqual([
      ["sent", undefined, "wamid.TEST1:sent"],
      ["delivered", undefined, "wamid.TEST1:delivered"],
      ["read", undefined, "wamid.TEST1:read"],
      ["failed", "131026", "wamid.TEST1:failed"],
    ]);
    expect(reports[0]).toMatchObject({
      provider: "whatsapp",
      providerMessageId: "wamid.TEST1",
      reference: "ht1.tok.Zw",
    });
    expect(reports[0]?.occurredAtMs).toBe((NOW_S - 10) * 1000);
  });

  it("unsigned, forged (other secret, one flipped byte, tampered body) and wrongly formatted signatures are refused", async () => {
    const body = metaBody([status()]);
    const r = await deliver("/whatsapp", body, { "x-hub-signature-256": metaSign(body) });
    expect(rejection(() => parse({ ...r, headers: {} })).reason).toBe("unsigned");
    expect(
      rejection(() => parse({ ...r, headers: { "x-hub-signature-256": metaSign(body, "other-secret") } }))
        .reason,
    ).toBe("forged");
    const tampered = Buffer.from(r.body);
    tampered[tampered.length - 3]! ^= 1;
    expect(rejection(() => parse({ ...r, body: tampered })).reason).toBe("forged");
    expect(rejection(() => parse({ ...r, headers: { "x-hub-signature-256": "sha1=abc" } })).reason).toBe(
      "forged",
    );
    // A rotation: the old secret among several still verifies.
    expect(parse(r, { appSecret: ["new-secret-0000", META_SECRET] })).toHaveLength(1);
  });

  it("signed but malformed or stale bodies are refused; an incoming-message change yields nothing", async () => {
    const cases: [string, string][] = [
      ["not json", "malformed"],
      [JSON.stringify({ object: "page", entry: [] }), "malformed"],
      [metaBody([{ status: "sent", timestamp: String(NOW_S) }]), "malformed"],
      [metaBody([status({ timestamp: "yesterday" })]), "malformed"],
      [metaBody([status({ timestamp: String(NOW_S - 2 * 86_400) })]), "stale"],
      [metaBody([status({ timestamp: String(NOW_S + 3_600) })]), "stale"],
    ];
    for (const [body, reason] of cases) {
      const r = await deliver("/whatsapp", body, { "x-hub-signature-256": metaSign(body) });
      expect(rejection(() => parse(r)).reason).toBe(reason);
    }
    const inbound = JSON.stringify({
      object: "whatsapp_business_account",
      entry: [{ changes: [{ field: "messages", value: { messages: [{ id: "x", text: { body: "oi" } }] } }] }],
    });
    const r = await deliver("/whatsapp", inbound, { "x-hub-signature-256": metaSign(inbound) });
    expect(parse(r)).toEqual([]);
  });
});

// ------------------------------------------------------------------ Twilio

describe("parseTwilioStatusCallback", () => {
  const form = (over: Record<string, string> = {}) =>
    new URLSearchParams({
      AccountSid: "AC00000000000000000000000000000000",
      ApiVersion: "2010-04-01",
      From: "+15550000000",
      MessageSid: "SM00000000000000000000000000000001",
      MessageStatus: "delivered",
      SmsSid: "SM00000000000000000000000000000001",
      SmsStatus: "delivered",
      To: "+5543999990001",
      ...over,
    }).toString();
  const post = async (path: string, body: string, token = TWILIO_TOKEN) => {
    const url = `${receiverUrl}${path}`;
    const signature = twilioSignature(token, url, new URLSearchParams(body));
    return deliver(path, body, {
      "content-type": "application/x-www-form-urlencoded",
      "x-twilio-signature": signature,
    });
  };
  const parse = (r: Received, over: object = {}) =>
    parseTwilioStatusCallback({
      url: r.url,
      rawBody: r.body,
      headers: r.headers,
      authToken: TWILIO_TOKEN,
      ...over,
    });

  it("matches Twilio's documented signing example", () => {
    // https://www.twilio.com/docs/usage/webhooks/webhooks-security (auth token 12345, the documented URL and params)
    const params = new URLSearchParams({
      CallSid: "CA1234567890ABCDE",
      Caller: "+12349013030",
      Digits: "1234",
      From: "+12349013030",
      To: "+18005551212",
    });
    expect(twilioSignature("12345", "https://example.com/myapp.php?foo=1&bar=2", params)).toBe(
      createHmac("sha1", "12345")
        .update(
          "https://example.com/myapp.php?foo=1&bar=2CallSidCA1234567890ABCDECaller+12349013030Digits1234From+12349013030To+18005551212",
        )
        .digest("base64"),
    );
  });

  it("a valid callback maps delivered / read / failed and undelivered (with ErrorCode); the reference comes from the signed URL", async () => {
    const r = await post("/twilio?ht_ref=ht1.tok.Zw", form());
    expect(parse(r)).toEqual([
      {
        provider: "twilio",
        providerMessageId: "SM00000000000000000000000000000001",
        status: "delivered",
        dedupeKey: "SM00000000000000000000000000000001:delivered",
        reference: "ht1.tok.Zw",
      },
    ]);
    const failed = await post("/twilio", form({ MessageStatus: "undelivered", ErrorCode: "30003" }));
    expect(parse(failed)[0]).toMatchObject({ status: "failed", providerCode: "30003" });
    for (const intermediate of ["queued", "sending", "accepted"]) {
      expect(parse(await post("/twilio", form({ MessageStatus: intermediate })))).toEqual([]);
    }
  });

  it("forged: another token, another URL (the reference swapped), a changed parameter, another account; unsigned", async () => {
    const r = await post("/twilio?ht_ref=ht1.tok.Zw", form());
    expect(rejection(() => parse({ ...r, headers: {} })).reason).toBe("unsigned");
    expect(rejection(() => parse(r, { authToken: "another-token-000000" })).reason).toBe("forged");
    expect(rejection(() => parse({ ...r, url: r.url.replace("Zw", "Zx") })).reason).toBe("forged");
    expect(
      rejection(() => parse({ ...r, body: Buffer.from(form({ MessageStatus: "failed" })) })).reason,
    ).toBe("forged");
    expect(rejection(() => parse(r, { accountSid: "AC11111111111111111111111111111111" })).reason).toBe(
      "forged",
    );
    expect(parse(r, { authToken: ["rotated-token-00000", TWILIO_TOKEN] })).toHaveLength(1);
  });

  it("signed but malformed: no MessageSid, or a URL that is not absolute", async () => {
    const r = await post("/twilio", "MessageStatus=delivered");
    expect(rejection(() => parse(r)).reason).toBe("malformed");
    expect(rejection(() => parse({ ...r, url: "/twilio" })).reason).toBe("malformed");
  });
});

// ------------------------------------------------------------------ Zenvia

describe("parseZenviaStatusWebhook", () => {
  const event = (over: object = {}, status: object = {}) =>
    JSON.stringify({
      id: "evt-0001",
      timestamp: new Date(NOW_MS - 5_000).toISOString(),
      type: "MESSAGE_STATUS",
      subscriptionId: "sub-1",
      channel: "sms",
      messageId: "zv-msg-1",
      contentIndex: 0,
      messageStatus: {
        timestamp: new Date(NOW_MS - 6_000).toISOString(),
        code: "DELIVERED",
        description: "ok",
        ...status,
      },
      ...over,
    });
  const post = (body: string, secret = ZENVIA_SECRET) =>
    deliver("/zenvia", body, { "content-type": "application/json", "x-health-token-webhook-secret": secret });
  const parse = (r: Received, over: object = {}) =>
    parseZenviaStatusWebhook({
      rawBody: r.body,
      headers: r.headers,
      secret: ZENVIA_SECRET,
      nowMs: NOW_MS,
      ...over,
    });

  it("maps SENT / DELIVERED / READ, and REJECTED / NOT_DELIVERED as failed with the channel's error code", async () => {
    expect(parse(await post(event()))).toEqual([
      {
        provider: "zenvia",
        providerMessageId: "zv-msg-1",
        status: "delivered",
        dedupeKey: "evt-0001",
        occurredAtMs: NOW_MS - 5_000,
      },
    ]);
    const failed = await post(
      event({}, { code: "NOT_DELIVERED", causes: [{ channelErrorCode: "005", reason: "x" }] }),
    );
    expect(parse(failed)[0]).toMatchObject({ status: "failed", providerCode: "005" });
    expect(parse(await post(event({}, { code: "REJECTED" })))[0]).toMatchObject({ providerCode: "REJECTED" });
    expect(parse(await post(event({ externalId: "ht1.tok.Zw" })))[0]?.reference).toBe("ht1.tok.Zw");
    expect(parse(await post(event({}, { code: "CLICKED" })))).toEqual([]);
    expect(parse(await post(event({ type: "MESSAGE" })))).toEqual([]);
  });

  it("unsigned, forged, a too-short configured secret, malformed and stale events are refused", async () => {
    const r = await post(event());
    expect(rejection(() => parse({ ...r, headers: {} })).reason).toBe("unsigned");
    expect(rejection(() => parse(r, { secret: "made-up-zenvia-secret-0123456789abcdeX" })).reason).toBe(
      "forged",
    );
    expect(rejection(() => parse(r, { secret: "short" })).reason).toBe("forged");
    const cases: [string, string][] = [
      ["{", "malformed"],
      [event({ messageId: 7 }), "malformed"],
      [event({ timestamp: new Date(NOW_MS - 2 * 86_400_000).toISOString() }), "stale"],
      [event({ timestamp: "soon" }), "malformed"],
    ];
    for (const [body, reason] of cases) {
      const received = await post(body);
      expect(rejection(() => parse(received)).reason).toBe(reason);
    }
  });
});

// ------------------------------------------------------------------ hostile input

describe("hostile input", () => {
  it("any body and header never crash a parser: a report list or a ReceiptRejectedError", () => {
    fc.assert(
      fc.property(
        fc.oneof(fc.string(), fc.json(), fc.uint8Array({ maxLength: 200 })),
        fc.string(),
        (body, header) => {
          const signedMeta = metaSign(typeof body === "string" ? body : Buffer.from(body));
          for (const run of [
            () =>
              parseWhatsAppStatusWebhook({
                rawBody: body,
                headers: { "x-hub-signature-256": signedMeta },
                appSecret: META_SECRET,
              }),
            () =>
              parseWhatsAppStatusWebhook({
                rawBody: body,
                headers: { "x-hub-signature-256": header },
                appSecret: META_SECRET,
              }),
            () =>
              parseTwilioStatusCallback({
                url: "https://x.example/t",
                rawBody: body,
                headers: { "x-twilio-signature": header },
                authToken: TWILIO_TOKEN,
              }),
            () =>
              parseZenviaStatusWebhook({
                rawBody: body,
                headers: { "x-health-token-webhook-secret": ZENVIA_SECRET },
                secret: ZENVIA_SECRET,
              }),
          ]) {
            try {
              expect(Array.isArray(run())).toBe(true);
            } catch (error) {
              expect(error).toBeInstanceOf(ReceiptRejectedError);
            }
          }
        },
      ),
      { numRuns: 300 },
    );
  });
});

// ------------------------------------------------------------------ the references the notifiers attach

describe("notifiers attach the reference where the provider echoes it", () => {
  const message: TokenMessage = {
    code: "482913",
    ttlSeconds: 1800,
    expiresAtMs: NOW_MS + 1_800_000,
    channel: "sms",
    to: "+5543999990001",
    recipient: "beneficiary",
    beneficiaryId: "ben-1",
    locale: "pt-BR",
  };

  it("WhatsApp: biz_opaque_callback_data", async () => {
    const s = await startServer(() => ({ status: 200, body: { messages: [{ id: "wamid.X" }] } }));
    try {
      const wa = new WhatsAppNotifier({
        phoneNumberId: "1",
        accessToken: "made-up-token",
        templateName: "t",
        language: "pt_BR",
        baseUrl: s.url,
      });
      const receipt = await wa.send({ ...message, channel: "whatsapp" }, { reference: "ht1.abc.Zw" });
      expect(receipt.providerMessageId).toBe("wamid.X");
      expect(JSON.parse(s.requests[0]!.body).biz_opaque_callback_data).toBe("ht1.abc.Zw");
    } finally {
      await s.close();
    }
  });

  it("Twilio: StatusCallback with ht_ref; Zenvia: externalId; generic: nothing extra", async () => {
    const s = await startServer((r) => ({
      status: 201,
      body: r.path.includes("Messages") ? { sid: "SM1" } : { id: "zv1" },
    }));
    try {
      const twilio = new HttpSmsNotifier({
        provider: twilioSms({
          accountSid: "AC1",
          authToken: "made-up-auth-token",
          from: "+15550000000",
          baseUrl: s.url,
          statusCallbackUrl: "https://api.operadora.example/receipts/twilio",
        }),
      });
      expect((await twilio.send(message, { reference: "ht1.abc.Zw" })).providerMessageId).toBe("SM1");
      expect(new URLSearchParams(s.requests[0]!.body).get("StatusCallback")).toBe(
        "https://api.operadora.example/receipts/twilio?ht_ref=ht1.abc.Zw",
      );
      const zenvia = new HttpSmsNotifier({
        provider: zenviaSms({ apiToken: "made-up-zenvia", from: "conta", baseUrl: s.url }),
      });
      expect((await zenvia.send(message, { reference: "ht1.abc.Zw" })).providerMessageId).toBe("zv1");
      expect(JSON.parse(s.requests[1]!.body).externalId).toBe("ht1.abc.Zw");
      const own = new HttpSmsNotifier({
        provider: genericSms({ url: `${s.url}/own`, body: ({ to, text }) => ({ to, text }) }),
      });
      await own.send(message, { reference: "ht1.abc.Zw" });
      expect(s.requests[2]!.body).not.toContain("ht1");
    } finally {
      await s.close();
    }
  });

  it("an aborted signal stops an HTTP notifier before and during a send", async () => {
    const s = await startServer(() => ({ status: 200, body: { id: "x" }, delayMs: 5_000 }));
    try {
      const own = new HttpSmsNotifier({
        provider: genericSms({ url: `${s.url}/own`, body: ({ to, text }) => ({ to, text }) }),
      });
      const before = await own.send(message, { signal: AbortSignal.abort() }).catch((e: unknown) => e);
      expect(before).toMatchObject({ code: "DELIVERY_FAILED", retryable: false });
      expect(s.requests).toHaveLength(0);
      const controller = new AbortController();
      const during = own.send(message, { signal: controller.signal }).catch((e: unknown) => e);
      await new Promise((r) => setTimeout(r, 50));
      controller.abort();
      const error = (await during) as { cause?: { kind?: string } };
      expect(error.cause?.kind).toBe("aborted");
    } finally {
      await s.close();
    }
  });
});
