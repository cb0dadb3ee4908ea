/**
 * health-token/sms: delivers tokens by SMS through an HTTP provider. Request builders for Twilio's
 * Messages API ({@link twilioSms}), Zenvia's v2 SMS API ({@link zenviaSms}) and the operator's own gateway
 * ({@link genericSms}).
 *
 * The text is the `sms` template (see `renderTokenMessage` in `health-token`): GSM-7 and one segment by
 * default. NIST SP 800-63B rates SMS as a restricted authenticator: prefer the app channel and keep SMS as a
 * fallback the operator chooses knowingly.
 *
 * @example
 * ```ts
 * import { HttpSmsNotifier, twilioSms, zenviaSms } from "health-token/sms";
 *
 * const twilio = new HttpSmsNotifier({
 *   provider: twilioSms({ accountSid: "AC…", authToken: process.env.TWILIO_AUTH_TOKEN!, from: "+15005550006" }),
 * });
 * const zenvia = new HttpSmsNotifier({
 *   provider: zenviaSms({ apiToken: process.env.ZENVIA_TOKEN!, from: "minha-conta" }),
 * });
 * ```
 *
 * @module
 */

import { argOptions } from "../_internal/args.js";
import { ConfigError, DeliveryFailedError } from "../errors.js";
import { renderTokenMessage, type TemplateOverrides } from "../messages/templates.js";
import type { DeliveryReceipt, Notifier, SendOptions, TokenMessage } from "../ports/notifier.js";
import {
  defaultParseError,
  type FetchLike,
  type HttpRequest,
  type HttpRetryOptions,
  type ProviderErrorInfo,
  sendHttp,
} from "./_http.js";

export type { FetchLike, HttpRequest, HttpRetryOptions, ProviderErrorInfo } from "./_http.js";
export { HTTP_DEFAULTS, ProviderError } from "./_http.js";

/**
 * How to speak to one SMS provider's HTTP API.
 *
 * @example
 * ```ts
 * const provider: SmsProvider = genericSms({
 *   url: "https://sms.gateway.example/send",
 *   headers: { authorization: `Bearer ${process.env.SMS_TOKEN}` },
 *   body: ({ to, text }) => ({ msisdn: to, message: text }),
 * });
 * const sms = new HttpSmsNotifier({ provider });
 * ```
 */
export interface SmsProvider {
  /** Short name, used in error scopes (`sms:twilio`). */
  readonly name: string;
  /** Credentials that must never appear in an error (API tokens, passwords). */
  readonly secrets: readonly string[];
  /**
   * Builds the request that sends `text` to `to` (E.164, `+5543999990001`); `context.reference` is the token
   * service's opaque correlation id, to attach where the provider echoes it in its status callbacks.
   */
  buildRequest(to: string, text: string, context?: { readonly reference?: string | undefined }): HttpRequest;
  /** Reads the provider's error code and message out of an error answer. */
  parseError?(status: number, body: unknown): ProviderErrorInfo | undefined;
  /** Reads the provider's message id out of a success answer. */
  messageId?(body: unknown): string | undefined;
}

/** Options of {@link twilioSms}. Give `from` or `messagingServiceSid`. */
export interface TwilioSmsOptions {
  /** The account SID (`AC…`); also the Basic-auth user name unless `apiKeySid` is given. */
  readonly accountSid: string;
  /** The auth token (or the API key secret when `apiKeySid` is given). Never appears in an error. */
  readonly authToken: string;
  /** An API key SID (`SK…`) to authenticate with instead of the account SID. */
  readonly apiKeySid?: string | undefined;
  /** A Twilio number in E.164 or an alphanumeric sender id. */
  readonly from?: string | undefined;
  /** A Messaging Service SID (`MG…`), instead of `from`. */
  readonly messagingServiceSid?: string | undefined;
  /** API base URL (default `https://api.twilio.com`). */
  readonly baseUrl?: string | undefined;
  /**
   * Your status-callback endpoint: sent as each message's `StatusCallback`, with the token service's reference
   * appended as the `ht_ref` query parameter (Twilio signs the full URL, so the reference arrives authenticated).
   */
  readonly statusCallbackUrl?: string | undefined;
}

/** The query parameter carrying the token service's reference on a Twilio `StatusCallback` URL. */
export const TWILIO_REFERENCE_PARAM = "ht_ref";

function base64(text: string): string {
  return btoa(String.fromCharCode(...new TextEncoder().encode(text)));
}

/**
 * Twilio's Messages API: POST `/2010-04-01/Accounts/{AccountSid}/Messages.json`, form-encoded `To`, `From` (or
 * `MessagingServiceSid`) and `Body`, HTTP Basic auth; answers 201 with the Message resource (`sid`), errors as
 * `{ code, message, more_info, status }` (429 with code 20429 when too many concurrent requests: "never
 * processed and always safe to retry").
 * Sources: https://www.twilio.com/docs/messaging/api/message-resource#create-a-message-resource,
 * https://www.twilio.com/docs/api/errors/20429
 *
 * @param options - credentials and sender
 *
 * @example
 * ```ts
 * const sms = new HttpSmsNotifier({
 *   provider: twilioSms({ accountSid: "AC…", authToken: process.env.TWILIO_AUTH_TOKEN!, from: "+5511999990000" }),
 * });
 * ```
 */
export function twilioSms(options: TwilioSmsOptions): SmsProvider {
  argOptions(options, "twilioSms", "sms");
  if (!options.accountSid || !options.authToken) {
    throw new ConfigError("twilioSms needs accountSid and authToken", { scope: "sms:twilio" });
  }
  if (!options.from === !options.messagingServiceSid) {
    throw new ConfigError("twilioSms needs exactly one of from and messagingServiceSid", {
      scope: "sms:twilio",
    });
  }
  const base = (options.baseUrl ?? "https://api.twilio.com").replace(/\/+$/, "");
  const url = `${base}/2010-04-01/Accounts/${encodeURIComponent(options.accountSid)}/Messages.json`;
  const authorization = `Basic ${base64(`${options.apiKeySid ?? options.accountSid}:${options.authToken}`)}`;
  return {
    name: "twilio",
    secrets: [options.authToken, authorization.slice("Basic ".length)],
    buildRequest(to, text, context) {
      const form = new URLSearchParams({ To: to });
      if (options.messagingServiceSid) form.set("MessagingServiceSid", options.messagingServiceSid);
      else form.set("From", options.from!);
      form.set("Body", text);
      if (options.statusCallbackUrl) {
        const callback = new URL(options.statusCallbackUrl);
        if (context?.reference) callback.searchParams.set(TWILIO_REFERENCE_PARAM, context.reference);
        form.set("StatusCallback", callback.toString());
      }
      return {
        url,
        method: "POST",
        headers: {
          authorization,
          "content-type": "application/x-www-form-urlencoded",
          accept: "application/json",
        },
        body: form.toString(),
      };
    },
    parseError(_status, body) {
      if (!body || typeof body !== "object") return defaultParseError(_status, body);
      const b = body as { code?: unknown; message?: unknown; more_info?: unknown };
      const code = typeof b.code === "number" || typeof b.code === "string" ? String(b.code) : undefined;
      const message = [b.message, b.more_info].filter((p): p is string => typeof p === "string").join(" ");
      return { ...(code !== undefined ? { code } : {}), ...(message ? { message } : {}) };
    },
    messageId: (body) => {
      const sid = (body as { sid?: unknown } | undefined)?.sid;
      return typeof sid === "string" ? sid : undefined;
    },
  };
}

/** Options of {@link zenviaSms}. */
export interface ZenviaSmsOptions {
  /** The API token, sent in `X-API-TOKEN`. Never appears in an error. */
  readonly apiToken: string;
  /** The sender id of the SMS integration (Zenvia's `from`). */
  readonly from: string;
  /** API base URL (default `https://api.zenvia.com`). */
  readonly baseUrl?: string | undefined;
}

/**
 * Zenvia's v2 SMS channel: POST `/v2/channels/sms/messages`, JSON `{ from, to, contents: [{ type: "text", text
 * }] }` with the token in `X-API-TOKEN`; `to` as digits with the country code (`5543999990001`). Answers 200
 * with the message (`id`); errors as `{ code, message, details }` (`VALIDATION_ERROR` 400,
 * `AUTHENTICATION_ERROR` 401, `INTERNAL_ERROR` 500, only the last worth retrying).
 * Source: https://zenvia.github.io/zenvia-openapi-spec/v2/ (Error Handling; Channels › SMS)
 *
 * @param options - token and sender
 *
 * @example
 * ```ts
 * const sms = new HttpSmsNotifier({ provider: zenviaSms({ apiToken: process.env.ZENVIA_TOKEN!, from: "minha-conta" }) });
 * ```
 */
export function zenviaSms(options: ZenviaSmsOptions): SmsProvider {
  argOptions(options, "zenviaSms", "sms");
  if (!options.apiToken || !options.from) {
    throw new ConfigError("zenviaSms needs apiToken and from", { scope: "sms:zenvia" });
  }
  const url = `${(options.baseUrl ?? "https://api.zenvia.com").replace(/\/+$/, "")}/v2/channels/sms/messages`;
  return {
    name: "zenvia",
    secrets: [options.apiToken],
    buildRequest(to, text, context) {
      return {
        url,
        method: "POST",
        headers: {
          "x-api-token": options.apiToken,
          "content-type": "application/json",
          accept: "application/json",
        },
        body: JSON.stringify({
          from: options.from,
          to: to.replace(/^\+/, ""),
          contents: [{ type: "text", text }],
          ...(context?.reference ? { externalId: context.reference } : {}),
        }),
      };
    },
    parseError(status, body) {
      const info = defaultParseError(status, body);
      const details = (body as { details?: unknown } | undefined)?.details;
      if (!info || !Array.isArray(details) || details.length === 0) return info;
      const detailText = details
        .map((d) => (d && typeof d === "object" ? (d as { message?: unknown }).message : undefined))
        .filter((m): m is string => typeof m === "string")
        .join("; ");
      return detailText ? { ...info, message: `${info.message ?? ""} (${detailText})`.trim() } : info;
    },
    messageId: (body) => {
      const id = (body as { id?: unknown } | undefined)?.id;
      return typeof id === "string" ? id : undefined;
    },
  };
}

/** Options of {@link genericSms}: the operator's own SMS gateway. */
export interface GenericSmsOptions {
  /** The gateway's URL. */
  readonly url: string;
  /** HTTP method (default `POST`). */
  readonly method?: string | undefined;
  /** Headers, credentials included (list those in `secrets`). */
  readonly headers?: Readonly<Record<string, string>> | undefined;
  /**
   * Builds the body from the E.164 recipient and the text. An object is sent as JSON (`content-type:
   * application/json` unless set in `headers`); a string is sent as is.
   */
  readonly body: (input: { readonly to: string; readonly text: string }) => string | object;
  /** Values that must never appear in an error (tokens, passwords in the headers or URL). */
  readonly secrets?: readonly string[] | undefined;
  /** Reads the message id out of the success answer. */
  readonly messageId?: ((body: unknown) => string | undefined) | undefined;
  /** Reads the error code and message out of an error answer (default: `{ code, message }` or `{ error }`). */
  readonly parseError?: ((status: number, body: unknown) => ProviderErrorInfo | undefined) | undefined;
}

/**
 * An SMS provider for the operator's own HTTP gateway.
 *
 * @param options - URL, method, headers and a body builder
 *
 * @example
 * ```ts
 * const sms = new HttpSmsNotifier({
 *   provider: genericSms({
 *     url: "https://sms.gateway.example/send",
 *     headers: { authorization: `Bearer ${process.env.SMS_TOKEN}` },
 *     body: ({ to, text }) => ({ msisdn: to, message: text }),
 *   }),
 * });
 * ```
 */
export function genericSms(options: GenericSmsOptions): SmsProvider {
  argOptions(options, "genericSms", "sms");
  if (!options.url || typeof options.body !== "function") {
    throw new ConfigError("genericSms needs url and body", { scope: "sms:generic" });
  }
  return {
    name: "generic",
    secrets: options.secrets ?? [],
    buildRequest(to, text) {
      const built = options.body({ to, text });
      const headers: Record<string, string> = { ...options.headers };
      const hasType = Object.keys(headers).some((k) => k.toLowerCase() === "content-type");
      if (typeof built !== "string" && !hasType) headers["content-type"] = "application/json";
      return {
        url: options.url,
        method: options.method ?? "POST",
        headers,
        body: typeof built === "string" ? built : JSON.stringify(built),
      };
    },
    parseError: options.parseError ?? defaultParseError,
    ...(options.messageId ? { messageId: options.messageId } : {}),
  };
}

/** Options of {@link HttpSmsNotifier}. */
export interface HttpSmsNotifierOptions extends HttpRetryOptions {
  /** The provider: {@link twilioSms}, {@link zenviaSms}, {@link genericSms} or your own. */
  readonly provider: SmsProvider;
  /** Replacements of the default SMS templates. */
  readonly templates?: TemplateOverrides | undefined;
  /** The fetch to use (default: the platform's). */
  readonly fetch?: FetchLike | undefined;
  /** Waits between retries (default `setTimeout`); for tests. */
  readonly sleep?: ((ms: number) => Promise<void>) | undefined;
  /** Jitter source in [0, 1); for tests. */
  readonly random?: (() => number) | undefined;
}

/**
 * A {@link Notifier} for the `sms` channel over an HTTP provider. Renders the `sms` template, sends it with the
 * shared retrying client, and reports every failure as a `DeliveryFailedError` (provider code in
 * `providerCode`, provider message redacted in `cause`).
 *
 * @example
 * ```ts
 * const sms = new HttpSmsNotifier({ provider: zenviaSms({ apiToken, from: "minha-conta" }) });
 * await sms.send(message);
 * ```
 */
export class HttpSmsNotifier implements Notifier {
  readonly #options: HttpSmsNotifierOptions;
  readonly #scope: string;

  /** @param options - the provider, templates and retry settings */
  constructor(options: HttpSmsNotifierOptions) {
    if (!options?.provider || typeof options.provider.buildRequest !== "function") {
      throw new ConfigError("HttpSmsNotifier needs a provider", { scope: "sms" });
    }
    this.#options = options;
    this.#scope = `sms:${options.provider.name}`;
  }

  /** Renders the SMS text and sends it to `message.to` (E.164). */
  async send(message: TokenMessage, options: SendOptions = {}): Promise<DeliveryReceipt> {
    const { provider } = this.#options;
    if (message.channel !== "sms") {
      throw new DeliveryFailedError(`cannot send a ${message.channel} message`, {
        scope: this.#scope,
        providerCode: "unsupported_channel",
      });
    }
    if (!/^\+[1-9]\d{7,14}$/.test(message.to)) {
      throw new DeliveryFailedError("recipient is not an E.164 phone number", {
        scope: this.#scope,
        providerCode: "invalid_recipient",
      });
    }
    const { text } = renderTokenMessage(message, this.#options.templates);
    const secrets = [...provider.secrets, message.code, message.to, message.to.slice(1)];
    let request: HttpRequest;
    try {
      request = provider.buildRequest(
        message.to,
        text,
        options.reference === undefined ? {} : { reference: options.reference },
      );
    } catch {
      throw new DeliveryFailedError("the provider could not build the request", { scope: this.#scope });
    }
    const parseError = provider.parseError?.bind(provider);
    const result = await sendHttp(
      request,
      {
        ...this.#options,
        scope: this.#scope,
        ...(parseError ? { parseError } : {}),
        ...(options.signal ? { signal: options.signal } : {}),
      },
      secrets,
    );
    const id = provider.messageId?.(result.body);
    return { channel: "sms", ...(id !== undefined ? { providerMessageId: id } : {}) };
  }
}
