import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  buildWhatsAppTemplateBody,
  WhatsAppNotifier,
  type WhatsAppNotifierOptions,
} from "../../../src/adapters/whatsapp.js";
import { ConfigError, DeliveryFailedError } from "../../../src/errors.js";
import type { TokenMessage } from "../../../src/ports/notifier.js";
import { runNotifierConformance } from "../../../src/testing/notifier-conformance.js";
import { type RecordedRequest, recordingSleep, startServer, type TestServer } from "./_server.js";

// Shapes from Meta's "Sending authentication templates" and "Error codes" pages:
// https://developers.facebook.com/docs/whatsapp/cloud-api/guides/send-message-templates/auth-otp-template-messages
// https://developers.facebook.com/documentation/business-messaging/whatsapp/support/error-codes
const ACCESS_TOKEN = "EAAJBtestACCESStoken0123456789abcdef";
const PHONE_NUMBER_ID = "106540352242922";

function graphError(code: number, message: string, extra: Record<string, unknown> = {}) {
  return {
    error: { message, type: "OAuthException", code, fbtrace_id: "Az8or2yhqkZfEZ-_4Qn_Bam", ...extra },
  };
}

/** Checks the request the way the Cloud API would; returns an error answer when it is wrong. */
function check(r: RecordedRequest) {
  if (r.method !== "POST" || r.path !== `/v24.0/${PHONE_NUMBER_ID}/messages`) {
    return { status: 404, body: graphError(100, "Unsupported post request") };
  }
  if (r.headers.authorization !== `Bearer ${ACCESS_TOKEN}`) {
    return {
      status: 401,
      body: graphError(190, `Invalid OAuth access token - Cannot parse ${r.headers.authorization}`),
    };
  }
  if (!String(r.headers["content-type"]).startsWith("application/json")) {
    return { status: 400, body: graphError(100, "Invalid parameter") };
  }
  const body = JSON.parse(r.body);
  const code = body?.template?.components?.[0]?.parameters?.[0]?.text;
  const expected = buildWhatsAppTemplateBody(
    `+${body.to}`,
    code,
    "token_atendimento",
    body?.template?.language?.code,
  );
  expect(body).toEqual(expected);
  expect(body).toEqual({
    messaging_product: "whatsapp",
    recipient_type: "individual",
    to: body.to,
    type: "template",
    template: {
      name: "token_atendimento",
      language: { code: body.template.language.code },
      components: [
        { type: "body", parameters: [{ type: "text", text: code }] },
        { type: "button", sub_type: "url", index: "0", parameters: [{ type: "text", text: code }] },
      ],
    },
  });
  expect(body.to).toMatch(/^[1-9]\d{7,14}$/);
  return undefined;
}

const success = (to: string) => ({
  status: 200,
  body: {
    messaging_product: "whatsapp",
    contacts: [{ input: to, wa_id: to }],
    messages: [{ id: `wamid.HBgLMTY0NjcwNDM1OTUVAgARGBI${to.slice(-4)}` }],
  },
});

let ok: TestServer;
let refusing: TestServer;
let script:
  | ((r: RecordedRequest, i: number) => { status: number; body?: unknown; headers?: Record<string, string> })
  | undefined;

beforeAll(async () => {
  ok = await startServer((r, i) => check(r) ?? script?.(r, i) ?? success(JSON.parse(r.body).to));
  // Refuses everything, echoing the request the way a careless gateway might.
  refusing = await startServer((r) => ({
    status: 400,
    body: graphError(131026, `Message undeliverable: ${r.headers.authorization} ${r.body}`, {
      error_data: {
        messaging_product: "whatsapp",
        details: `Receiver ${JSON.parse(r.body).to} is incapable`,
      },
    }),
  }));
});
afterAll(async () => {
  await ok.close();
  await refusing.close();
});

const options = (baseUrl: string, extra: Partial<WhatsAppNotifierOptions> = {}): WhatsAppNotifierOptions => ({
  phoneNumberId: PHONE_NUMBER_ID,
  accessToken: ACCESS_TOKEN,
  templateName: "token_atendimento",
  language: "pt_BR",
  baseUrl,
  ...extra,
});

const message = (overrides: Partial<TokenMessage> = {}): TokenMessage => ({
  code: "482913",
  ttlSeconds: 1800,
  expiresAtMs: 1_790_001_800_000,
  channel: "whatsapp",
  to: "+5543999990001",
  recipient: "beneficiary",
  beneficiaryId: "ben-7",
  locale: "pt-BR",
  ...overrides,
});

runNotifierConformance({
  name: "WhatsAppNotifier",
  channel: "whatsapp",
  recipient: "+5543999990002",
  createNotifier: () => new WhatsAppNotifier(options(ok.url)),
  createFailingNotifier: () => new WhatsAppNotifier(options(refusing.url)),
  received: () => ok.requests.map((r) => r.body),
  secrets: [ACCESS_TOKEN],
  test: { describe, it, expect },
});

describe("WhatsAppNotifier against a loopback Cloud API", () => {
  it("posts the authentication template with the code twice and returns the wamid", async () => {
    const before = ok.requests.length;
    const receipt = await new WhatsAppNotifier(options(ok.url)).send(message());
    expect(receipt).toEqual({
      channel: "whatsapp",
      providerMessageId: "wamid.HBgLMTY0NjcwNDM1OTUVAgARGBI0001",
    });
    const body = JSON.parse(ok.requests[before]?.body ?? "");
    expect(body.to).toBe("5543999990001");
    expect(body.template.language.code).toBe("pt_BR");
    expect(body.template.components[0].parameters[0].text).toBe("482913");
    expect(body.template.components[1].parameters[0].text).toBe("482913");
  });

  it("picks the template language from the message locale", async () => {
    const before = ok.requests.length;
    const notifier = new WhatsAppNotifier(options(ok.url, { language: { "pt-BR": "pt_BR", en: "en_US" } }));
    await notifier.send(message({ locale: "en" }));
    expect(JSON.parse(ok.requests[before]?.body ?? "").template.language.code).toBe("en_US");
  });

  it("retries Meta's throughput limit (130429, answered with HTTP 400) and then delivers", async () => {
    const { sleep, waits } = recordingSleep();
    const before = ok.requests.length;
    script = (_r, i) =>
      i === before ? { status: 400, body: graphError(130429, "(#130429) Rate limit hit") } : success("1");
    try {
      const receipt = await new WhatsAppNotifier(options(ok.url, { sleep, random: () => 0 })).send(message());
      expect(receipt.channel).toBe("whatsapp");
      expect(ok.requests.length - before).toBe(2);
      expect(waits).toHaveLength(1);
    } finally {
      script = undefined;
    }
  });

  it("reports the pair rate limit (131056) as retryable once the attempts run out", async () => {
    const { sleep } = recordingSleep();
    const before = ok.requests.length;
    script = () => ({
      status: 400,
      body: graphError(131056, "(#131056) (Business Account, Consumer Account) pair rate limit hit"),
    });
    try {
      const error = await new WhatsAppNotifier(options(ok.url, { sleep, maxAttempts: 2 }))
        .send(message())
        .catch((e) => e);
      expect(error).toBeInstanceOf(DeliveryFailedError);
      expect(error.providerCode).toBe("131056");
      expect(error.retryable).toBe(true);
      expect(ok.requests.length - before).toBe(2);
    } finally {
      script = undefined;
    }
  });

  it("does not retry an undeliverable message (131026) and keeps Meta's details in the cause", async () => {
    const { sleep } = recordingSleep();
    const before = refusing.requests.length;
    const error = await new WhatsAppNotifier(options(refusing.url, { sleep }))
      .send(message())
      .catch((e) => e);
    expect(refusing.requests.length - before).toBe(1);
    expect(error.providerCode).toBe("131026");
    expect(error.retryable).toBe(false);
    expect(error.cause.providerMessage).toContain("Message undeliverable");
    expect(error.cause.providerMessage).toContain("fbtrace_id Az8or2yhqkZfEZ-_4Qn_Bam");
    expect(error.cause.providerMessage).toContain("Receiver [redacted] is incapable");
    expect(error.cause.providerMessage).not.toContain(ACCESS_TOKEN);
  });

  it("maps an invalid access token (190, HTTP 401) to a non-retryable failure without the token", async () => {
    const error = await new WhatsAppNotifier(options(ok.url, { accessToken: "EAAJBwrongTOKEN987654321" }))
      .send(message())
      .catch((e) => e);
    expect(error).toBeInstanceOf(DeliveryFailedError);
    expect(error.providerCode).toBe("190");
    expect(error.retryable).toBe(false);
    expect(`${error.message} ${error.cause.message}`).not.toContain("EAAJBwrongTOKEN987654321");
  });

  it("refuses another channel or a recipient that is not E.164 without calling the API", async () => {
    const before = ok.requests.length;
    const n = new WhatsAppNotifier(options(ok.url));
    await expect(n.send(message({ channel: "sms" }))).rejects.toMatchObject({
      providerCode: "unsupported_channel",
    });
    const bad = await n.send(message({ to: "(43) 99999-0001" })).catch((e) => e);
    expect(bad).toBeInstanceOf(DeliveryFailedError);
    expect(bad.providerCode).toBe("invalid_recipient");
    expect(bad.message).not.toContain("99999");
    expect(ok.requests.length).toBe(before);
  });

  it("requires its credentials and template", () => {
    expect(() => new WhatsAppNotifier(options(ok.url, { accessToken: "" }))).toThrow(ConfigError);
    expect(() => new WhatsAppNotifier(options(ok.url, { templateName: "" }))).toThrow(ConfigError);
  });
});
