import { createHmac } from "node:crypto";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  signWebhookPayload,
  verifyWebhookSignature,
  WebhookNotifier,
  type WebhookNotifierOptions,
} from "../../../src/adapters/webhook.js";
import { ConfigError, DeliveryFailedError } from "../../../src/errors.js";
import type { TokenMessage } from "../../../src/ports/notifier.js";
import { runNotifierConformance } from "../../../src/testing/notifier-conformance.js";
import { recordingSleep, startServer, type TestServer } from "./_server.js";

const SECRET = "whsec_4q8Zr1mN0pL7vB3xK9tY2cF6";
const NOW_MS = Date.UTC(2026, 10, 23, 12, 0, 0);
const clock = { now: () => NOW_MS };

const message = (overrides: Partial<TokenMessage> = {}): TokenMessage => ({
  code: "482913",
  ttlSeconds: 1800,
  expiresAtMs: NOW_MS + 1_800_000,
  channel: "app",
  to: "app-user-42",
  recipient: "beneficiary",
  beneficiaryId: "ben-7",
  locale: "pt-BR",
  operatorName: "Exemplo Saúde",
  ...overrides,
});

let receiver: TestServer;
let failOnce = new Set<string>();
let refusing: TestServer;

beforeAll(async () => {
  // The operator's push backend: verifies the signature over the raw body before anything else.
  receiver = await startServer((r) => {
    const check = verifyWebhookSignature({
      payload: r.body,
      header: r.headers["health-token-signature"],
      secret: SECRET,
      nowMs: NOW_MS,
    });
    if (!check.ok) return { status: 401, body: { error: `signature ${check.reason}` } };
    if (
      r.method !== "POST" ||
      r.path !== "/hooks/token" ||
      r.headers["content-type"] !== "application/json"
    ) {
      return { status: 400, body: { error: "bad request" } };
    }
    const id = JSON.parse(r.body).id as string;
    if (failOnce.has(id)) {
      failOnce.delete(id);
      return { status: 503, body: { error: "try later" } };
    }
    return { status: 202 };
  });
  refusing = await startServer((r) => ({ status: 422, body: { error: `cannot push ${r.body}` } }));
});
afterAll(async () => {
  await receiver.close();
  await refusing.close();
});

const notifier = (url: string, extra: Partial<WebhookNotifierOptions> = {}) =>
  new WebhookNotifier({ url, secret: SECRET, clock, ...extra });

runNotifierConformance({
  name: "WebhookNotifier",
  channel: "app",
  recipient: "app-user-conformance",
  createNotifier: () => notifier(`${receiver.url}/hooks/token`),
  createFailingNotifier: () => notifier(`${refusing.url}/hooks/token`),
  received: () => receiver.requests.map((r) => r.body),
  secrets: [SECRET],
  test: { describe, it, expect },
});

describe("WebhookNotifier against a loopback receiver", () => {
  it("posts the signed payload the receiver verifies, with no beneficiary id", async () => {
    const before = receiver.requests.length;
    const receipt = await notifier(`${receiver.url}/hooks/token`).send(message());
    const request = receiver.requests[before]!;
    const payload = JSON.parse(request.body);
    expect(receipt).toEqual({ channel: "app", providerMessageId: payload.id });
    expect(payload).toEqual({
      id: payload.id,
      type: "token.delivery",
      channel: "app",
      to: "app-user-42",
      code: "482913",
      ttlSeconds: 1800,
      expiresAtMs: NOW_MS + 1_800_000,
      recipient: "beneficiary",
      locale: "pt-BR",
      notification: {
        title: "Token de atendimento",
        body: "Seu token é 482913, válido por 30 min. Informe-o apenas ao atendente, no momento do atendimento. Não pediu? Avise-nos.",
      },
    });
    expect(payload.id).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(request.body).not.toContain("ben-7");
    expect(request.headers["health-token-signature"]).toBe(
      signWebhookPayload(request.body, SECRET, NOW_MS / 1000),
    );
  });

  it("retries a 503 with the same delivery id and signature", async () => {
    const { sleep } = recordingSleep();
    const fixed = new Uint8Array(16).fill(7);
    const n = notifier(`${receiver.url}/hooks/token`, { sleep, random: () => fixed });
    const id = "BwcHBwcHBwcHBwcHBwcHBw";
    failOnce = new Set([id]);
    const before = receiver.requests.length;
    const receipt = await n.send(message());
    expect(receipt.providerMessageId).toBe(id);
    const [first, second] = receiver.requests.slice(before);
    expect(receiver.requests.length - before).toBe(2);
    expect(second?.body).toBe(first?.body);
    expect(second?.headers["health-token-signature"]).toBe(first?.headers["health-token-signature"]);
  });

  it("is refused by the receiver when signed with another secret", async () => {
    const error = await notifier(`${receiver.url}/hooks/token`, { secret: "another-secret-of-enough-length" })
      .send(message())
      .catch((e) => e);
    expect(error).toBeInstanceOf(DeliveryFailedError);
    expect(error.retryable).toBe(false);
    expect(error.cause.providerMessage).toBe("signature mismatch");
  });

  it("refuses a short secret and a non-http url", () => {
    expect(() => new WebhookNotifier({ url: "https://x.example/h", secret: "short" })).toThrow(ConfigError);
    expect(() => new WebhookNotifier({ url: "ftp://x.example/h", secret: SECRET })).toThrow(ConfigError);
  });
});

describe("verifyWebhookSignature", () => {
  const payload = '{"id":"abc","code":"482913"}';
  const t = NOW_MS / 1000;

  it("matches an HMAC-SHA256 computed independently (node:crypto) over t.body", () => {
    const expected = createHmac("sha256", SECRET).update(`${t}.${payload}`).digest("hex");
    expect(signWebhookPayload(payload, SECRET, t)).toBe(`t=${t},v1=${expected}`);
    const bytes = new TextEncoder().encode(payload);
    expect(signWebhookPayload(bytes, SECRET, t)).toBe(`t=${t},v1=${expected}`);
  });

  it("misconfiguration throws ConfigError: NaN or out-of-range tolerance, short secrets, a bad clock", () => {
    const yearOld = signWebhookPayload(payload, SECRET, t - 365 * 86_400);
    const base = { payload, header: yearOld, secret: SECRET, nowMs: NOW_MS };
    for (const toleranceSeconds of [Number.NaN, Number.POSITIVE_INFINITY, -1, 0, 1.5, 86_401]) {
      expect(() => verifyWebhookSignature({ ...base, toleranceSeconds })).toThrow(ConfigError);
    }
    expect(verifyWebhookSignature(base)).toEqual({ ok: false, reason: "too_old" });
    for (const secret of ["x", "", "fifteen-bytes!!", ["long-enough-secret-1", "short"], []] as const) {
      expect(() => verifyWebhookSignature({ ...base, secret: secret as string })).toThrow(ConfigError);
    }
    expect(() => verifyWebhookSignature({ ...base, nowMs: Number.NaN })).toThrow(ConfigError);
    expect(() => verifyWebhookSignature(null as never)).toThrow(ConfigError);
    expect(verifyWebhookSignature({ ...base, payload: 42 as never })).toEqual({
      ok: false,
      reason: "malformed",
    });
  });

  it("accepts a fresh signature, on a string or the raw bytes", () => {
    const header = signWebhookPayload(payload, SECRET, t);
    expect(verifyWebhookSignature({ payload, header, secret: SECRET, nowMs: NOW_MS })).toEqual({
      ok: true,
      timestampSeconds: t,
    });
    const bytes = new TextEncoder().encode(payload);
    expect(verifyWebhookSignature({ payload: bytes, header, secret: SECRET, nowMs: NOW_MS }).ok).toBe(true);
  });

  it("accepts exactly at the tolerance and refuses one second beyond, in the past and the future", () => {
    const at = (offsetSeconds: number) =>
      verifyWebhookSignature({
        payload,
        header: signWebhookPayload(payload, SECRET, t + offsetSeconds),
        secret: SECRET,
        nowMs: NOW_MS,
        toleranceSeconds: 300,
      });
    expect(at(-300).ok).toBe(true);
    expect(at(-301)).toEqual({ ok: false, reason: "too_old" });
    expect(at(300).ok).toBe(true);
    expect(at(301)).toEqual({ ok: false, reason: "future" });
  });

  it("refuses a tampered payload, a wrong secret, and a valid signature moved to another timestamp", () => {
    const header = signWebhookPayload(payload, SECRET, t);
    expect(
      verifyWebhookSignature({
        payload: payload.replace("482913", "482914"),
        header,
        secret: SECRET,
        nowMs: NOW_MS,
      }),
    ).toEqual({
      ok: false,
      reason: "mismatch",
    });
    expect(
      verifyWebhookSignature({ payload, header, secret: "wrong-secret-xxxxxxxx", nowMs: NOW_MS }).ok,
    ).toBe(false);
    const moved = header.replace(`t=${t}`, `t=${t + 1}`);
    expect(verifyWebhookSignature({ payload, header: moved, secret: SECRET, nowMs: NOW_MS })).toEqual({
      ok: false,
      reason: "mismatch",
    });
  });

  it("accepts any matching v1 and any of several secrets (rotation)", () => {
    const oldSig = signWebhookPayload(payload, "old-secret-0123456789", t).split("v1=")[1];
    const newSig = signWebhookPayload(payload, SECRET, t).split("v1=")[1];
    const header = `t=${t},v1=${"0".repeat(64)},v1=${newSig}`;
    expect(verifyWebhookSignature({ payload, header, secret: SECRET, nowMs: NOW_MS }).ok).toBe(true);
    expect(
      verifyWebhookSignature({
        payload,
        header: `t=${t},v1=${oldSig}`,
        secret: [SECRET, "old-secret-0123456789"],
        nowMs: NOW_MS,
      }).ok,
    ).toBe(true);
  });

  it("reports malformed headers", () => {
    for (const header of [
      undefined,
      null,
      "",
      "t=abc,v1=00",
      `v1=${"a".repeat(64)}`,
      `t=${t}`,
      `t=${t},v1=xyz`,
      `t=${t},t=${t},v1=${"a".repeat(64)}`,
    ]) {
      expect(verifyWebhookSignature({ payload, header, secret: SECRET, nowMs: NOW_MS })).toEqual({
        ok: false,
        reason: "malformed",
      });
    }
  });

  it("never throws and never accepts a forged header", () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string({ maxLength: 300 }),
          fc.constant(`t=${t},v1=`).map((s) => s + "f".repeat(64)),
        ),
        (header) => {
          const result = verifyWebhookSignature({ payload, header, secret: SECRET, nowMs: NOW_MS });
          expect(result.ok).toBe(false);
        },
      ),
      { numRuns: 500 },
    );
  });
});
