/**
 * Delivery receipts wired end to end: one Fetch-standard handler takes the status callbacks of the WhatsApp
 * Cloud API, Twilio and Zenvia, checks each provider's signature, and records them on the token service; a
 * `failed` receipt sends the same code to the next contact. Mount `receiptsHandler` on any Fetch-standard server
 * (Hono, Bun, Deno, `@hono/node-server`). `npx tsx examples/receipts.ts` runs a narrated check without network.
 */
import { hmac } from "@noble/hashes/hmac.js";
import { sha256 } from "@noble/hashes/sha2.js";
import { bytesToHex, utf8ToBytes } from "@noble/hashes/utils.js";
import {
  createTokenService,
  type DeliveryReport,
  MemoryTokenStore,
  type ReceiptRejectedError,
  type TokenService,
} from "health-token";
import {
  parseTwilioStatusCallback,
  parseWhatsAppStatusWebhook,
  parseZenviaStatusWebhook,
} from "health-token/receipts";
import { OutboxNotifier } from "health-token/testing";
import { WhatsAppNotifier } from "health-token/whatsapp";

/** The secrets of the three providers' callbacks. */
export interface ReceiptSecrets {
  /** The Meta app secret (signs `X-Hub-Signature-256`). */
  readonly metaAppSecret: string;
  /** The token you typed in Meta's webhook setup (the GET handshake). */
  readonly metaVerifyToken: string;
  /** The Twilio auth token (signs `X-Twilio-Signature`). */
  readonly twilioAuthToken: string;
  /** The secret you put in the Zenvia subscription's `webhook.headers`. */
  readonly zenviaSecret: string;
  /** Your public origin as the providers see it (Twilio signs the full URL): `https://api.example.org`. */
  readonly publicOrigin: string;
}

/**
 * A handler for `/receipts/whatsapp`, `/receipts/twilio` and `/receipts/zenvia`. Answers 200 with
 * `{ applied, ignored }` (a replay or a report about no current token is ignored, so the provider stops
 * retrying), 401 to an unsigned or forged callback, 400 to a malformed one, 500 when the store failed (the
 * provider retries later).
 */
export function receiptsHandler(tokens: TokenService, secrets: ReceiptSecrets) {
  return async (request: Request): Promise<Response> => {
    const url = new URL(request.url);
    if (request.method === "GET" && url.pathname === "/receipts/whatsapp") {
      // Meta's subscription handshake: echo hub.challenge when hub.verify_token is ours.
      const ok =
        url.searchParams.get("hub.mode") === "subscribe" &&
        url.searchParams.get("hub.verify_token") === secrets.metaVerifyToken;
      return new Response(ok ? url.searchParams.get("hub.challenge") : "", { status: ok ? 200 : 403 });
    }
    if (request.method !== "POST") return new Response(null, { status: 405 });
    const rawBody = new Uint8Array(await request.arrayBuffer());
    const headers = request.headers;
    let reports: DeliveryReport[];
    try {
      if (url.pathname === "/receipts/whatsapp") {
        reports = parseWhatsAppStatusWebhook({ rawBody, headers, appSecret: secrets.metaAppSecret });
      } else if (url.pathname === "/receipts/twilio") {
        const signedUrl = `${secrets.publicOrigin}${url.pathname}${url.search}`;
        reports = parseTwilioStatusCallback({
          url: signedUrl,
          rawBody,
          headers,
          authToken: secrets.twilioAuthToken,
        });
      } else if (url.pathname === "/receipts/zenvia") {
        reports = parseZenviaStatusWebhook({ rawBody, headers, secret: secrets.zenviaSecret });
      } else {
        return new Response(null, { status: 404 });
      }
    } catch (error) {
      if (!isRejection(error)) return new Response(null, { status: 500 });
      const status = error.reason === "malformed" ? 400 : error.reason === "stale" ? 200 : 401;
      return Response.json({ rejected: error.reason }, { status });
    }
    let applied = 0;
    const ignored: string[] = [];
    for (const report of reports) {
      try {
        await tokens.applyDeliveryReport(report);
        applied++;
      } catch (error) {
        if (!isRejection(error)) return new Response(null, { status: 500 });
        ignored.push(error.reason);
      }
    }
    return Response.json({ applied, ignored });
  };
}

/** A refused callback; matched on `code`, which holds across two copies of the package (ESM and CJS). */
function isRejection(error: unknown): error is ReceiptRejectedError {
  return (error as { code?: unknown } | null)?.code === "RECEIPT_REJECTED";
}

// ------------------------------------------------------------------ a narrated check (no network)

async function main(): Promise<void> {
  const secrets: ReceiptSecrets = {
    metaAppSecret: "made-up-meta-app-secret-0123456789",
    metaVerifyToken: "made-up-verify-token",
    twilioAuthToken: "made-up-twilio-auth-token-0123456",
    zenviaSecret: "made-up-zenvia-secret-0123456789abcdef",
    publicOrigin: "https://api.operadora.example",
  };
  // A WhatsApp notifier whose "Graph API" answers in-process with a message id, keeping what it was sent.
  const sent: { biz_opaque_callback_data?: string }[] = [];
  const whatsapp = new WhatsAppNotifier({
    phoneNumberId: "100000000000001",
    accessToken: "made-up-access-token",
    templateName: "token_atendimento",
    language: "pt_BR",
    fetch: async (_url, init) => {
      sent.push(JSON.parse(String(init.body)));
      return Response.json({ messages: [{ id: "wamid.MADEUP1" }] });
    },
  });
  const sms = new OutboxNotifier();
  const tokens = createTokenService({
    store: new MemoryTokenStore(),
    notifier: { whatsapp, sms },
    pepper: "eXaMpLq8vZ3xR7wN1tK5jH9cB2sL6dF0gY4aU8iO3qWv=" /* openssl rand -base64 32 */,
    policy: { channelOrder: ["whatsapp", "sms"] },
  });
  const handle = receiptsHandler(tokens, secrets);
  const beneficiary = {
    id: "ben-example",
    birthDate: "1985-03-02",
    contacts: [
      { id: "wa", channel: "whatsapp" as const, address: "(43) 99999-0001" },
      { id: "cel", channel: "sms" as const, address: "(43) 99999-0002" },
    ],
  };
  const issued = await tokens.issue({ guide: { id: "G-100", providerId: "P-7" }, beneficiary });
  console.log(
    `issued: ${issued.status} on ${issued.channel} to ${issued.deliveredTo}, id ${issued.providerMessageId}`,
  );

  // Meta reports the message failed (131026: undeliverable), signed with the app secret.
  const body = JSON.stringify({
    object: "whatsapp_business_account",
    entry: [
      {
        id: "WABA-1",
        changes: [
          {
            field: "messages",
            value: {
              messaging_product: "whatsapp",
              statuses: [
                {
                  id: issued.providerMessageId,
                  status: "failed",
                  timestamp: String(Math.floor(Date.now() / 1000)),
                  recipient_id: "5543999990001",
                  biz_opaque_callback_data: sent[0]?.biz_opaque_callback_data,
                  errors: [{ code: 131026, title: "Message undeliverable" }],
                },
              ],
            },
          },
        ],
      },
    ],
  });
  const signature = `sha256=${bytesToHex(hmac(sha256, utf8ToBytes(secrets.metaAppSecret), utf8ToBytes(body)))}`;
  const post = () =>
    handle(
      new Request("http://localhost/receipts/whatsapp", {
        method: "POST",
        headers: { "content-type": "application/json", "x-hub-signature-256": signature },
        body,
      }),
    );
  const first = await post();
  console.log(`webhook: ${first.status} ${JSON.stringify(await first.json())}`);
  const replay = await post();
  console.log(`replay: ${replay.status} ${JSON.stringify(await replay.json())}`);
  const forged = await handle(
    new Request("http://localhost/receipts/whatsapp", {
      method: "POST",
      headers: { "x-hub-signature-256": `sha256=${"0".repeat(64)}` },
      body,
    }),
  );
  console.log(`forged: ${forged.status}`);
  // The failed receipt handed the same code to the SMS contact, in the background.
  for (let i = 0; i < 100 && sms.messages.length === 0; i++) await new Promise((r) => setTimeout(r, 5));
  const status = await tokens.deliveryStatus("G-100");
  console.log(
    status.state === "sent"
      ? `status: sent on ${status.channel} to ${status.maskedContact}`
      : `status: ${status.state}`,
  );
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main().catch((error: unknown) => {
    console.error("UNEXPECTED", error);
    process.exit(1);
  });
}
