import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { genericSms, HttpSmsNotifier, twilioSms, zenviaSms } from "../../../src/adapters/sms.js";
import { ConfigError, DeliveryFailedError } from "../../../src/errors.js";
import { countSmsSegments, renderTokenMessage } from "../../../src/messages/index.js";
import type { TokenMessage } from "../../../src/ports/notifier.js";
import { runNotifierConformance } from "../../../src/testing/notifier-conformance.js";
import { type RecordedRequest, recordingSleep, startServer, type TestServer } from "./_server.js";

const message = (overrides: Partial<TokenMessage> = {}): TokenMessage => ({
  code: "482913",
  ttlSeconds: 1800,
  expiresAtMs: 1_790_001_800_000,
  channel: "sms",
  to: "+5543999990001",
  recipient: "beneficiary",
  beneficiaryId: "ben-7",
  locale: "pt-BR",
  operatorName: "Exemplo Saúde",
  ...overrides,
});

// ---------------------------------------------------------------------------------------------------------
// Twilio Messages API: https://www.twilio.com/docs/messaging/api/message-resource#create-a-message-resource
// Errors: { code, message, more_info, status }; https://www.twilio.com/docs/api/errors/20429
const ACCOUNT_SID = "AC0123456789abcdef0123456789abcdef";
const AUTH_TOKEN = "f3c2b1a0e9d8c7b6a5f4e3d2c1b0a9f8";

function twilioError(status: number, code: number, msg: string) {
  return {
    status,
    body: { code, message: msg, more_info: `https://www.twilio.com/docs/errors/${code}`, status },
  };
}

function twilioCheck(r: RecordedRequest) {
  if (r.method !== "POST" || r.path !== `/2010-04-01/Accounts/${ACCOUNT_SID}/Messages.json`) {
    return twilioError(404, 20404, "The requested resource was not found");
  }
  const auth = String(r.headers.authorization ?? "");
  const decoded = Buffer.from(auth.replace(/^Basic /, ""), "base64").toString("utf8");
  if (!auth.startsWith("Basic ") || decoded !== `${ACCOUNT_SID}:${AUTH_TOKEN}`) {
    return twilioError(401, 20003, `Authenticate (got ${decoded})`);
  }
  if (r.headers["content-type"] !== "application/x-www-form-urlencoded")
    return twilioError(400, 21601, "bad type");
  const form = new URLSearchParams(r.body);
  if (!form.get("To")?.match(/^\+[1-9]\d{7,14}$/)) {
    return twilioError(400, 21211, `The 'To' number ${form.get("To")} is not a valid phone number.`);
  }
  if (!form.get("Body")) return twilioError(400, 21602, "Message body is required.");
  if (!form.get("From") === !form.get("MessagingServiceSid"))
    return twilioError(400, 21603, "A 'From' is required");
  return undefined;
}

// ---------------------------------------------------------------------------------------------------------
// Zenvia v2: https://zenvia.github.io/zenvia-openapi-spec/v2/ (POST /v2/channels/sms/messages, X-API-TOKEN)
const ZENVIA_TOKEN = "hKp94crjv9OF3UGrCpSXUJw1-UYHhRvLKNLt";

function zenviaCheck(r: RecordedRequest) {
  if (r.method !== "POST" || r.path !== "/v2/channels/sms/messages") {
    return { status: 404, body: { code: "NOT_FOUND", message: "Not found" } };
  }
  if (r.headers["x-api-token"] !== ZENVIA_TOKEN) {
    return {
      status: 401,
      body: { code: "AUTHENTICATION_ERROR", message: "No authorization token was found" },
    };
  }
  const body = JSON.parse(r.body);
  const keys = Object.keys(body).sort();
  const valid =
    JSON.stringify(keys) === '["contents","from","to"]' &&
    body.from === "exemplo-saude" &&
    /^[1-9]\d{7,14}$/.test(body.to) &&
    Array.isArray(body.contents) &&
    body.contents.length === 1 &&
    body.contents[0].type === "text" &&
    typeof body.contents[0].text === "string";
  if (!valid) {
    return {
      status: 400,
      body: {
        code: "VALIDATION_ERROR",
        message: "Validation error",
        details: [{ code: "x", path: "to", message: `bad ${r.body}` }],
      },
    };
  }
  return undefined;
}

let twilio: TestServer;
let zenvia: TestServer;
let gateway: TestServer;
let refusing: TestServer;
let twilioScript:
  | ((i: number) => { status: number; body?: unknown; headers?: Record<string, string> })
  | undefined;
let zenviaScript: typeof twilioScript;

beforeAll(async () => {
  twilio = await startServer(
    (r, i) =>
      twilioCheck(r) ??
      twilioScript?.(i) ?? {
        status: 201,
        body: {
          sid: `SM${String(i).padStart(32, "0")}`,
          status: "queued",
          to: new URLSearchParams(r.body).get("To"),
        },
      },
  );
  zenvia = await startServer(
    (r, i) =>
      zenviaCheck(r) ?? zenviaScript?.(i) ?? { status: 200, body: { id: `zv-${i}`, direction: "OUT" } },
  );
  gateway = await startServer((r) =>
    r.method === "PUT" && r.path === "/gw/send?v=1" && r.headers["x-key"] === "gw-key-123456"
      ? { status: 202, body: { messageId: "gw-1" } }
      : { status: 403, body: { error: "forbidden" } },
  );
  // Refuses everything, echoing the whole request the way a careless provider might.
  refusing = await startServer((r) => ({
    status: 400,
    body: {
      code: 21211,
      message: `rejected ${JSON.stringify(r.headers)} ${r.body} ${decodeURIComponent(r.body)}`,
    },
  }));
});
afterAll(async () => {
  await Promise.all([twilio.close(), zenvia.close(), gateway.close(), refusing.close()]);
});

const twilioNotifier = (baseUrl: string, extra: object = {}) =>
  new HttpSmsNotifier({
    provider: twilioSms({ accountSid: ACCOUNT_SID, authToken: AUTH_TOKEN, from: "+15005550006", baseUrl }),
    ...extra,
  });
const zenviaNotifier = (baseUrl: string, extra: object = {}) =>
  new HttpSmsNotifier({
    provider: zenviaSms({ apiToken: ZENVIA_TOKEN, from: "exemplo-saude", baseUrl }),
    ...extra,
  });

runNotifierConformance({
  name: "HttpSmsNotifier (Twilio)",
  channel: "sms",
  recipient: "+5543999990003",
  createNotifier: () => twilioNotifier(twilio.url),
  createFailingNotifier: () => twilioNotifier(refusing.url),
  received: () => twilio.requests.map((r) => new URLSearchParams(r.body).get("Body") ?? ""),
  secrets: [AUTH_TOKEN],
  test: { describe, it, expect },
});

runNotifierConformance({
  name: "HttpSmsNotifier (Zenvia)",
  channel: "sms",
  recipient: "+5543999990004",
  createNotifier: () => zenviaNotifier(zenvia.url),
  createFailingNotifier: () => zenviaNotifier(refusing.url),
  received: () => zenvia.requests.map((r) => r.body),
  secrets: [ZENVIA_TOKEN],
  test: { describe, it, expect },
});

describe("HttpSmsNotifier with Twilio's Messages API on loopback", () => {
  it("posts To, From and the GSM-7 one-segment Body with Basic auth; returns the SID", async () => {
    const before = twilio.requests.length;
    const receipt = await twilioNotifier(twilio.url).send(message());
    expect(receipt).toEqual({ channel: "sms", providerMessageId: `SM${String(before).padStart(32, "0")}` });
    const form = new URLSearchParams(twilio.requests[before]?.body);
    expect([...form.keys()].sort()).toEqual(["Body", "From", "To"]);
    expect(form.get("To")).toBe("+5543999990001");
    expect(form.get("From")).toBe("+15005550006");
    expect(form.get("Body")).toBe(renderTokenMessage(message()).text);
    expect(countSmsSegments(form.get("Body") ?? "")).toMatchObject({ encoding: "GSM-7", segments: 1 });
  });

  it("sends MessagingServiceSid instead of From when configured", async () => {
    const before = twilio.requests.length;
    const n = new HttpSmsNotifier({
      provider: twilioSms({
        accountSid: ACCOUNT_SID,
        authToken: AUTH_TOKEN,
        messagingServiceSid: "MG0123456789abcdef0123456789abcdef",
        baseUrl: twilio.url,
      }),
    });
    await n.send(message());
    const form = new URLSearchParams(twilio.requests[before]?.body);
    expect(form.get("MessagingServiceSid")).toBe("MG0123456789abcdef0123456789abcdef");
    expect(form.has("From")).toBe(false);
  });

  it("waits the Retry-After of a 429 (code 20429) and delivers on the next attempt", async () => {
    const { sleep, waits } = recordingSleep();
    const before = twilio.requests.length;
    twilioScript = (i) =>
      i === before
        ? { ...twilioError(429, 20429, "Too Many Requests"), headers: { "retry-after": "2" } }
        : { status: 201, body: { sid: "SMretry" } };
    try {
      const receipt = await twilioNotifier(twilio.url, { sleep, random: () => 0 }).send(message());
      expect(receipt.providerMessageId).toBe("SMretry");
      expect(waits).toEqual([2000]);
      expect(twilio.requests.length - before).toBe(2);
    } finally {
      twilioScript = undefined;
    }
  });

  it("does not retry an invalid number (21211) and keeps Twilio's code and more_info", async () => {
    const before = twilio.requests.length;
    const error = await twilioNotifier(twilio.url)
      .send(message({ to: "+0000" }))
      .catch((e) => e);
    expect(twilio.requests.length - before).toBe(0); // refused before the request: not E.164
    expect(error.providerCode).toBe("invalid_recipient");

    twilioScript = () =>
      twilioError(400, 21211, "The 'To' number +5543999990001 is not a valid phone number.");
    try {
      const refused = await twilioNotifier(twilio.url)
        .send(message())
        .catch((e) => e);
      expect(refused).toBeInstanceOf(DeliveryFailedError);
      expect(refused.providerCode).toBe("21211");
      expect(refused.retryable).toBe(false);
      expect(refused.cause.providerMessage).toBe(
        "The 'To' number [redacted] is not a valid phone number. https://www.twilio.com/docs/errors/21211",
      );
      expect(twilio.requests.length - before).toBe(1);
    } finally {
      twilioScript = undefined;
    }
  });

  it("maps a wrong auth token (20003, HTTP 401) to a failure without the token", async () => {
    const n = new HttpSmsNotifier({
      provider: twilioSms({
        accountSid: ACCOUNT_SID,
        authToken: "0000wrongtoken0000",
        from: "+15005550006",
        baseUrl: twilio.url,
      }),
    });
    const error = await n.send(message()).catch((e) => e);
    expect(error.providerCode).toBe("20003");
    expect(error.retryable).toBe(false);
    expect(`${error.message} ${error.cause.message}`).not.toContain("0000wrongtoken0000");
  });

  it("refuses a configuration without exactly one sender", () => {
    expect(() => twilioSms({ accountSid: ACCOUNT_SID, authToken: AUTH_TOKEN })).toThrow(ConfigError);
    expect(() =>
      twilioSms({
        accountSid: ACCOUNT_SID,
        authToken: AUTH_TOKEN,
        from: "+15005550006",
        messagingServiceSid: "MG1",
      }),
    ).toThrow(ConfigError);
  });
});

describe("HttpSmsNotifier with Zenvia's v2 API on loopback", () => {
  it("posts { from, to, contents: [{ type: text, text }] } with X-API-TOKEN and the number as digits", async () => {
    const before = zenvia.requests.length;
    const receipt = await zenviaNotifier(zenvia.url).send(message({ locale: "en" }));
    expect(receipt).toEqual({ channel: "sms", providerMessageId: `zv-${before}` });
    expect(JSON.parse(zenvia.requests[before]?.body ?? "")).toEqual({
      from: "exemplo-saude",
      to: "5543999990001",
      contents: [{ type: "text", text: renderTokenMessage(message({ locale: "en" })).text }],
    });
  });

  it("retries INTERNAL_ERROR (500) and reports it as retryable when attempts run out", async () => {
    const { sleep } = recordingSleep();
    const before = zenvia.requests.length;
    zenviaScript = () => ({ status: 500, body: { code: "INTERNAL_ERROR", message: "Internal error" } });
    try {
      const error = await zenviaNotifier(zenvia.url, { sleep, maxAttempts: 3 })
        .send(message())
        .catch((e) => e);
      expect(zenvia.requests.length - before).toBe(3);
      expect(error.providerCode).toBe("INTERNAL_ERROR");
      expect(error.retryable).toBe(true);
    } finally {
      zenviaScript = undefined;
    }
  });

  it("does not retry VALIDATION_ERROR and keeps the details, redacted", async () => {
    const n = new HttpSmsNotifier({
      provider: zenviaSms({ apiToken: ZENVIA_TOKEN, from: "outro", baseUrl: zenvia.url }),
    });
    const before = zenvia.requests.length;
    const error = await n.send(message()).catch((e) => e);
    expect(zenvia.requests.length - before).toBe(1);
    expect(error.providerCode).toBe("VALIDATION_ERROR");
    expect(error.retryable).toBe(false);
    expect(error.cause.providerMessage).toMatch(/^Validation error \(bad /);
    expect(error.cause.providerMessage).not.toContain("482913");
    expect(error.cause.providerMessage).not.toContain("5543999990001");
  });
});

describe("HttpSmsNotifier with the operator's own gateway", () => {
  const provider = (url: string) =>
    genericSms({
      url: `${url}/gw/send?v=1`,
      method: "PUT",
      headers: { "x-key": "gw-key-123456" },
      secrets: ["gw-key-123456"],
      body: ({ to, text }) => ({ msisdn: to, message: text }),
      messageId: (b) => (b as { messageId?: string }).messageId,
    });

  it("sends what the body builder returns, as JSON, with the configured method and headers", async () => {
    const receipt = await new HttpSmsNotifier({ provider: provider(gateway.url) }).send(message());
    expect(receipt).toEqual({ channel: "sms", providerMessageId: "gw-1" });
    const last = gateway.requests.at(-1);
    expect(last?.headers["content-type"]).toBe("application/json");
    expect(JSON.parse(last?.body ?? "")).toEqual({
      msisdn: "+5543999990001",
      message: renderTokenMessage(message()).text,
    });
  });

  it("sends a string body as is", async () => {
    const p = genericSms({
      url: `${gateway.url}/gw/send?v=1`,
      method: "PUT",
      headers: { "x-key": "gw-key-123456", "content-type": "text/plain" },
      body: ({ to, text }) => `${to}|${text}`,
    });
    await new HttpSmsNotifier({ provider: p }).send(message());
    expect(gateway.requests.at(-1)?.body).toBe(`+5543999990001|${renderTokenMessage(message()).text}`);
  });

  it("reads { error } bodies and never retries a 403", async () => {
    const before = gateway.requests.length;
    const p = genericSms({ url: `${gateway.url}/gw/send?v=1`, body: ({ text }) => ({ text }) });
    const error = await new HttpSmsNotifier({ provider: p }).send(message()).catch((e) => e);
    expect(gateway.requests.length - before).toBe(1);
    expect(error.cause.providerMessage).toBe("forbidden");
    expect(error.retryable).toBe(false);
  });

  it("uses template overrides", async () => {
    await new HttpSmsNotifier({
      provider: provider(gateway.url),
      templates: { "pt-BR": { sms: { text: "Codigo {code}" } } },
    }).send(message());
    expect(JSON.parse(gateway.requests.at(-1)?.body ?? "").message).toBe("Codigo 482913");
  });
});

runNotifierConformance({
  name: "HttpSmsNotifier (generic gateway)",
  channel: "sms",
  recipient: "+5543999990005",
  createNotifier: () =>
    new HttpSmsNotifier({
      provider: genericSms({
        url: `${gateway.url}/gw/send?v=1`,
        method: "PUT",
        headers: { "x-key": "gw-key-123456" },
        body: ({ to, text }) => ({ to, text }),
      }),
    }),
  createFailingNotifier: () =>
    new HttpSmsNotifier({
      provider: genericSms({
        url: `${refusing.url}/gw`,
        headers: { "x-key": "gw-key-123456" },
        secrets: ["gw-key-123456"],
        body: ({ to, text }) => ({ to, text }),
      }),
    }),
  received: () => gateway.requests.map((r) => r.body),
  secrets: ["gw-key-123456"],
  test: { describe, it, expect },
});
