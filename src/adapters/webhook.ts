/**
 * health-token/webhook: delivers tokens to the operator's own backend (which pushes them to its app) as a
 * signed JSON POST, and verifies such signatures on the receiving side.
 *
 * The signature header follows the `t=…,v1=…` style: `Health-Token-Signature: t=<unix seconds>,v1=<hex
 * HMAC-SHA256(secret, "<t>.<raw body>")>`. The receiver recomputes it over the raw body bytes, compares in
 * constant time and refuses timestamps outside a tolerance (default 300 s), which bounds replays. Several
 * `v1=` entries may appear (secret rotation); any one matching is enough. HMAC is @noble/hashes, so this
 * entry runs in Node, Deno, Bun, browsers and edge workers alike.
 *
 * @example
 * ```ts
 * // Sender (the token service side)
 * import { WebhookNotifier, verifyWebhookSignature } from "health-token/webhook";
 * const notifier = new WebhookNotifier({ url: "https://push.example.org/tokens", secret: process.env.WEBHOOK_SECRET! });
 *
 * // Receiver (the operator's push backend), with the raw body as a string:
 * const check = verifyWebhookSignature({
 *   payload: rawBody,
 *   header: req.headers["health-token-signature"],
 *   secret: process.env.WEBHOOK_SECRET!,
 * });
 * if (!check.ok) return res.status(400).end();
 * ```
 *
 * @module
 */
import { hmac } from "@noble/hashes/hmac.js";
import { sha256 } from "@noble/hashes/sha2.js";
import { bytesToHex, utf8ToBytes } from "@noble/hashes/utils.js";
import { argInt, argString } from "../_internal/args.js";
import { constantTimeEqualString } from "../_internal/constant-time.js";
import { ConfigError, DeliveryFailedError } from "../errors.js";
import { renderTokenMessage, type TemplateOverrides } from "../messages/templates.js";
import { type Clock, type RandomSource, systemClock, systemRandom } from "../ports/clock.js";
import type {
  Channel,
  DeliveryReceipt,
  Locale,
  Notifier,
  SendOptions,
  TokenMessage,
} from "../ports/notifier.js";
import { type FetchLike, type HttpRetryOptions, sendHttp } from "./_http.js";

export type { FetchLike, HttpRetryOptions } from "./_http.js";
export { HTTP_DEFAULTS, ProviderError } from "./_http.js";

/** The name of the signature header (HTTP header names are case-insensitive). */
export const WEBHOOK_SIGNATURE_HEADER = "Health-Token-Signature";

/** The shortest secret accepted, in UTF-8 bytes (32 random bytes, base64url-encoded, are recommended). */
export const WEBHOOK_MIN_SECRET_BYTES = 16;

/** The JSON body a {@link WebhookNotifier} posts. */
export interface WebhookPayload {
  /** Unique id of this delivery (the same on every retry): deduplicate on it. */
  readonly id: string;
  /** Always `token.delivery`. */
  readonly type: "token.delivery";
  /** The channel the token service chose (usually `app`). */
  readonly channel: Channel;
  /** The app's user or device id the push goes to. */
  readonly to: string;
  /** The one-time code. */
  readonly code: string;
  /** Validity in seconds. */
  readonly ttlSeconds: number;
  /** Expiry (ms since the epoch). */
  readonly expiresAtMs: number;
  /** The beneficiary, or a guardian receiving it for a minor. */
  readonly recipient: "beneficiary" | "guardian";
  /** The locale of the texts. */
  readonly locale: Locale;
  /** The rendered notification (the template of the message's channel). */
  readonly notification: { readonly title: string; readonly body: string };
}

/**
 * Computes the signature header value for a payload.
 *
 * @param payload - the raw body, exactly as sent
 * @param secret - the shared secret
 * @param timestampSeconds - Unix time in whole seconds
 * @returns `t=<timestampSeconds>,v1=<hex HMAC-SHA256(secret, "<t>.<payload>")>`
 *
 * @example
 * ```ts
 * signWebhookPayload('{"id":"x"}', secret, 1767225600); // "t=1767225600,v1=5f0c…"
 * ```
 */
export function signWebhookPayload(
  payload: string | Uint8Array,
  secret: string,
  timestampSeconds: number,
): string {
  if (!(payload instanceof Uint8Array)) argString(payload, "payload");
  argString(secret, "secret");
  argInt(timestampSeconds, "timestampSeconds", 0, 2 ** 40);
  return `t=${timestampSeconds},v1=${hexSignature(payload, secret, timestampSeconds)}`;
}

function hexSignature(payload: string | Uint8Array, secret: string, t: number): string {
  const body = typeof payload === "string" ? utf8ToBytes(payload) : payload;
  const prefix = utf8ToBytes(`${t}.`);
  const signed = new Uint8Array(prefix.length + body.length);
  signed.set(prefix, 0);
  signed.set(body, prefix.length);
  return bytesToHex(hmac(sha256, utf8ToBytes(secret), signed));
}

/** Input of {@link verifyWebhookSignature}. */
export interface VerifyWebhookSignatureInput {
  /** The raw request body, byte for byte (not re-serialized JSON). */
  readonly payload: string | Uint8Array;
  /** The `Health-Token-Signature` header value. */
  readonly header: string | readonly string[] | null | undefined;
  /** The shared secret, or several during a rotation. */
  readonly secret: string | readonly string[];
  /** Largest accepted distance between the timestamp and now, in seconds (default 300). */
  readonly toleranceSeconds?: number | undefined;
  /** The current time in ms (default `Date.now()`). */
  readonly nowMs?: number | undefined;
}

/** The outcome of {@link verifyWebhookSignature}. */
export type WebhookVerification =
  | { readonly ok: true; readonly timestampSeconds: number }
  | { readonly ok: false; readonly reason: "malformed" | "mismatch" | "too_old" | "future" };

/**
 * Checks a webhook signature: the header must be well formed, one `v1` must equal the HMAC of the payload under
 * one of the secrets (compared in constant time, every candidate against every secret), and the timestamp must
 * be within `toleranceSeconds` of now, in the past (`too_old`) or the future (`future`). Never throws on what
 * the request carries (payload, header): it returns why it refused. Misconfiguration throws `ConfigError`: a
 * secret shorter than {@link WEBHOOK_MIN_SECRET_BYTES} bytes, a `toleranceSeconds` that is not an integer from
 * 1 to 86,400 (a `NaN` once accepted year-old signatures), a `nowMs` that is not a finite number.
 *
 * @param input - payload, header, secret(s), tolerance and clock
 *
 * @example
 * ```ts
 * const check = verifyWebhookSignature({ payload: rawBody, header, secret });
 * if (!check.ok) console.warn("refused webhook:", check.reason);
 * ```
 */
export function verifyWebhookSignature(input: VerifyWebhookSignatureInput): WebhookVerification {
  if (typeof input !== "object" || input === null) {
    throw new ConfigError("verifyWebhookSignature needs { payload, header, secret }", { scope: "webhook" });
  }
  const tolerance = input.toleranceSeconds ?? 300;
  if (!Number.isInteger(tolerance) || tolerance < 1 || tolerance > 86_400) {
    throw new ConfigError("toleranceSeconds must be an integer from 1 to 86400", { scope: "webhook" });
  }
  const nowMs = input.nowMs ?? systemClock.now();
  if (!Number.isFinite(nowMs)) throw new ConfigError("nowMs must be a finite number", { scope: "webhook" });
  const secrets =
    typeof input.secret === "string" ? [input.secret] : Array.isArray(input.secret) ? [...input.secret] : [];
  if (secrets.length === 0) throw new ConfigError("a webhook secret is required", { scope: "webhook" });
  for (const secret of secrets) {
    if (typeof secret !== "string" || utf8ToBytes(secret).length < WEBHOOK_MIN_SECRET_BYTES) {
      throw new ConfigError(`every webhook secret must have at least ${WEBHOOK_MIN_SECRET_BYTES} bytes`, {
        scope: "webhook",
      });
    }
  }
  if (typeof input.payload !== "string" && !(input.payload instanceof Uint8Array)) {
    return { ok: false, reason: "malformed" };
  }
  const headerValue = Array.isArray(input.header) ? input.header.join(",") : input.header;
  if (typeof headerValue !== "string" || headerValue.length > 4096) return { ok: false, reason: "malformed" };
  let timestamp: number | undefined;
  const candidates: string[] = [];
  for (const part of headerValue.split(",")) {
    const eq = part.indexOf("=");
    if (eq < 0) continue;
    const key = part.slice(0, eq).trim();
    const value = part.slice(eq + 1).trim();
    if (key === "t") {
      if (!/^\d{1,12}$/.test(value) || timestamp !== undefined) return { ok: false, reason: "malformed" };
      timestamp = Number(value);
    } else if (key === "v1" && /^[0-9a-fA-F]{64}$/.test(value)) {
      candidates.push(value.toLowerCase());
    }
  }
  if (timestamp === undefined || candidates.length === 0) return { ok: false, reason: "malformed" };

  let match = false;
  for (const secret of secrets) {
    const expected = hexSignature(input.payload, secret, timestamp);
    for (const candidate of candidates) {
      // No early exit: the work done does not depend on which candidate matches.
      match = constantTimeEqualString(expected, candidate) || match;
    }
  }
  if (!match) return { ok: false, reason: "mismatch" };

  const nowSeconds = Math.floor(nowMs / 1000);
  if (nowSeconds - timestamp > tolerance) return { ok: false, reason: "too_old" };
  if (timestamp - nowSeconds > tolerance) return { ok: false, reason: "future" };
  return { ok: true, timestampSeconds: timestamp };
}

/** Options of {@link WebhookNotifier}. */
export interface WebhookNotifierOptions extends HttpRetryOptions {
  /** The operator's endpoint (HTTPS in production). */
  readonly url: string;
  /** The shared HMAC secret, at least {@link WEBHOOK_MIN_SECRET_BYTES} bytes. Never appears in an error. */
  readonly secret: string;
  /** Extra headers (an API key of the receiving gateway, say; list secret ones in `secrets`). */
  readonly headers?: Readonly<Record<string, string>> | undefined;
  /** Values in `headers` that must never appear in an error. */
  readonly secrets?: readonly string[] | undefined;
  /** Replacements of the default templates for the notification texts. */
  readonly templates?: TemplateOverrides | undefined;
  /** The fetch to use (default: the platform's). */
  readonly fetch?: FetchLike | undefined;
  /** The clock for the signature timestamp (default: the system clock). */
  readonly clock?: Clock | undefined;
  /** Randomness for the delivery id (default: `crypto.getRandomValues`). */
  readonly random?: RandomSource | undefined;
  /** Waits between retries (default `setTimeout`); for tests. */
  readonly sleep?: ((ms: number) => Promise<void>) | undefined;
  /** Jitter source in [0, 1); for tests. */
  readonly jitter?: (() => number) | undefined;
}

function base64url(bytes: Uint8Array): string {
  return btoa(String.fromCharCode(...bytes))
    .replace(/\+/g, "-")
    .replace(/\//g, "_")
    .replace(/=+$/, "");
}

/**
 * A {@link Notifier} that POSTs a signed {@link WebhookPayload} to the operator's push backend. Retries 429,
 * 5xx and network errors with the same delivery id and signature; the receiver deduplicates on `id`.
 *
 * @example
 * ```ts
 * const app = new WebhookNotifier({ url: "https://push.example.org/tokens", secret });
 * await app.send({ ...message, channel: "app", to: "user-42" });
 * ```
 */
export class WebhookNotifier implements Notifier {
  readonly #options: WebhookNotifierOptions;

  /** @param options - endpoint, secret and transport settings */
  constructor(options: WebhookNotifierOptions) {
    if (!options?.url || !/^https?:\/\//i.test(options.url)) {
      throw new ConfigError("WebhookNotifier needs an http(s) url", { scope: "webhook" });
    }
    if (typeof options.secret !== "string" || utf8ToBytes(options.secret).length < WEBHOOK_MIN_SECRET_BYTES) {
      throw new ConfigError(`the webhook secret must have at least ${WEBHOOK_MIN_SECRET_BYTES} bytes`, {
        scope: "webhook",
      });
    }
    this.#options = options;
  }

  /** Posts the signed payload; resolves with the delivery id as `providerMessageId`. */
  async send(message: TokenMessage, sendOptions: SendOptions = {}): Promise<DeliveryReceipt> {
    const o = this.#options;
    if (typeof message.to !== "string" || message.to.length === 0) {
      throw new DeliveryFailedError("missing recipient", {
        scope: "webhook",
        providerCode: "invalid_recipient",
      });
    }
    const rendered = renderTokenMessage(message, o.templates);
    const id = base64url((o.random ?? systemRandom)(16));
    const payload: WebhookPayload = {
      id,
      type: "token.delivery",
      channel: message.channel,
      to: message.to,
      code: message.code,
      ttlSeconds: message.ttlSeconds,
      expiresAtMs: message.expiresAtMs,
      recipient: message.recipient,
      locale: message.locale,
      notification: { title: rendered.subject, body: rendered.text },
    };
    const body = JSON.stringify(payload);
    const t = Math.floor((o.clock ?? systemClock).now() / 1000);
    await sendHttp(
      {
        url: o.url,
        method: "POST",
        headers: {
          ...o.headers,
          "content-type": "application/json",
          [WEBHOOK_SIGNATURE_HEADER.toLowerCase()]: signWebhookPayload(body, o.secret, t),
        },
        body,
      },
      {
        scope: "webhook",
        ...(o.fetch ? { fetch: o.fetch } : {}),
        ...(o.sleep ? { sleep: o.sleep } : {}),
        ...(o.jitter ? { random: o.jitter } : {}),
        ...(o.maxAttempts !== undefined ? { maxAttempts: o.maxAttempts } : {}),
        ...(o.baseDelayMs !== undefined ? { baseDelayMs: o.baseDelayMs } : {}),
        ...(o.maxDelayMs !== undefined ? { maxDelayMs: o.maxDelayMs } : {}),
        ...(o.maxRetryAfterMs !== undefined ? { maxRetryAfterMs: o.maxRetryAfterMs } : {}),
        ...(o.timeoutMs !== undefined ? { timeoutMs: o.timeoutMs } : {}),
        ...(o.budgetMs !== undefined ? { budgetMs: o.budgetMs } : {}),
        ...(sendOptions.signal ? { signal: sendOptions.signal } : {}),
        now: () => (o.clock ?? systemClock).now(),
      },
      [o.secret, ...(o.secrets ?? []), message.code, message.to],
    );
    return { channel: message.channel, providerMessageId: id };
  }
}
