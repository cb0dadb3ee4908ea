/**
 * health-token/whatsapp: delivers tokens through the WhatsApp Business Platform Cloud API, as an
 * authentication-template message with a copy-code button.
 *
 * The template is created once in WhatsApp Manager (category `AUTHENTICATION`, copy-code button); its text is
 * Meta's preset ("*123456* is your verification code", with the optional security disclaimer and expiry
 * footer), so the library's templates do not apply on this channel. Authentication templates may not carry
 * URLs, media or emojis.
 *
 * @example
 * ```ts
 * import { WhatsAppNotifier } from "health-token/whatsapp";
 *
 * const notifier = new WhatsAppNotifier({
 *   phoneNumberId: process.env.WA_PHONE_NUMBER_ID!,
 *   accessToken: process.env.WA_ACCESS_TOKEN!,
 *   templateName: "token_atendimento",
 *   language: "pt_BR",
 * });
 * await notifier.send({ code: "123456", to: "+5543999990001", channel: "whatsapp", ... });
 * ```
 *
 * @module
 */

import { argOptions, argString } from "../_internal/args.js";
import { ConfigError, DeliveryFailedError } from "../errors.js";
import type { DeliveryReceipt, Locale, Notifier, SendOptions, TokenMessage } from "../ports/notifier.js";
import { type FetchLike, type HttpRetryOptions, type ProviderErrorInfo, sendHttp } from "./_http.js";

export type { FetchLike, HttpRetryOptions } from "./_http.js";
export { HTTP_DEFAULTS, ProviderError } from "./_http.js";

/** The Graph API version used when none is given. */
export const WHATSAPP_DEFAULT_API_VERSION = "v24.0";

/**
 * Graph API error codes that mean "try again later" whatever the HTTP status (Meta answers most of them with
 * 400): 1 API unknown, 2 API service, 4 API too many calls, 80007 rate limit issues, 130429 throughput
 * reached, 131000 something went wrong, 131016 service unavailable, 131056 pair rate limit (one business
 * number to one user), 133004 server temporarily unavailable.
 * Source: https://developers.facebook.com/documentation/business-messaging/whatsapp/support/error-codes
 */
export const WHATSAPP_RETRYABLE_CODES: ReadonlySet<string> = new Set([
  "1",
  "2",
  "4",
  "80007",
  "130429",
  "131000",
  "131016",
  "131056",
  "133004",
]);

/** Options of {@link WhatsAppNotifier}. */
export interface WhatsAppNotifierOptions extends HttpRetryOptions {
  /** The business phone number id (not the phone number) that sends. */
  readonly phoneNumberId: string;
  /** A system-user access token with `whatsapp_business_messaging`. Never appears in an error. */
  readonly accessToken: string;
  /** The approved authentication template's name. */
  readonly templateName: string;
  /** The template's language code (`pt_BR`, `en_US`), or one per message locale. */
  readonly language: string | { readonly [L in Locale]?: string | undefined };
  /** Graph API base URL (default `https://graph.facebook.com`). */
  readonly baseUrl?: string | undefined;
  /** Graph API version (default {@link WHATSAPP_DEFAULT_API_VERSION}). */
  readonly apiVersion?: string | undefined;
  /** The fetch to use (default: the platform's). */
  readonly fetch?: FetchLike | undefined;
  /** Waits between retries (default `setTimeout`); for tests. */
  readonly sleep?: ((ms: number) => Promise<void>) | undefined;
  /** Jitter source in [0, 1); for tests. */
  readonly random?: (() => number) | undefined;
}

/** The JSON body of an authentication-template send (exported for tests and custom transports). */
export interface WhatsAppTemplateBody {
  readonly messaging_product: "whatsapp";
  readonly recipient_type: "individual";
  readonly to: string;
  readonly type: "template";
  /** Echoed in the status webhooks (`statuses[].biz_opaque_callback_data`); at most 512 characters. */
  readonly biz_opaque_callback_data?: string;
  readonly template: {
    readonly name: string;
    readonly language: { readonly code: string };
    readonly components: readonly [
      {
        readonly type: "body";
        readonly parameters: readonly [{ readonly type: "text"; readonly text: string }];
      },
      {
        readonly type: "button";
        readonly sub_type: "url";
        readonly index: "0";
        readonly parameters: readonly [{ readonly type: "text"; readonly text: string }];
      },
    ];
  };
}

/**
 * Builds the Cloud API body that sends an authentication template: the code is the body parameter and the
 * copy-code button's parameter (Meta: "this value must appear twice in the payload", at most 15 characters).
 * Source: https://developers.facebook.com/docs/whatsapp/cloud-api/guides/send-message-templates/auth-otp-template-messages
 *
 * @param to - the recipient in E.164 (`+5543999990001`); sent as digits, as in Meta's examples
 * @param code - the one-time code
 * @param templateName - the approved template's name
 * @param languageCode - the template's language code
 * @param reference - an opaque id Meta echoes in the status webhooks (`biz_opaque_callback_data`)
 *
 * @example
 * ```ts
 * const body = buildWhatsAppTemplateBody("+5543999990001", "123456", "token_atendimento", "pt_BR");
 * // { messaging_product: "whatsapp", to: "5543999990001", type: "template", template: { name: "token_atendimento",
 * //   language: { code: "pt_BR" }, components: [body parameter "123456", copy-code button "123456"] } }
 * ```
 */
export function buildWhatsAppTemplateBody(
  to: string,
  code: string,
  templateName: string,
  languageCode: string,
  reference?: string,
): WhatsAppTemplateBody {
  argString(to, "to");
  argString(code, "code");
  argString(templateName, "templateName");
  argString(languageCode, "languageCode");
  if (reference !== undefined) argString(reference, "reference");
  return {
    messaging_product: "whatsapp",
    recipient_type: "individual",
    to: to.replace(/^\+/, ""),
    type: "template",
    ...(reference ? { biz_opaque_callback_data: reference.slice(0, 512) } : {}),
    template: {
      name: templateName,
      language: { code: languageCode },
      components: [
        { type: "body", parameters: [{ type: "text", text: code }] },
        { type: "button", sub_type: "url", index: "0", parameters: [{ type: "text", text: code }] },
      ],
    },
  };
}

/**
 * Reads a Graph API error: `{ error: { message, type, code, error_subcode, error_data: { details },
 * fbtrace_id } }`. Source: https://developers.facebook.com/documentation/business-messaging/whatsapp/support/error-codes
 *
 * @example
 * ```ts
 * parseWhatsAppError(400, { error: { message: "(#131026) Message undeliverable", code: 131026, error_subcode: 2494010 } });
 * // { code: "131026", retryable: false, message: "(#131026) Message undeliverable; subcode 2494010" }
 * ```
 */
export function parseWhatsAppError(_status: number, body: unknown): ProviderErrorInfo | undefined {
  const error = (body as { error?: unknown } | undefined)?.error;
  if (!error || typeof error !== "object") return undefined;
  const e = error as {
    message?: unknown;
    code?: unknown;
    error_subcode?: unknown;
    error_data?: { details?: unknown };
    fbtrace_id?: unknown;
  };
  const code = typeof e.code === "number" || typeof e.code === "string" ? String(e.code) : undefined;
  const parts = [
    typeof e.message === "string" ? e.message : undefined,
    typeof e.error_data?.details === "string" ? e.error_data.details : undefined,
    e.error_subcode !== undefined ? `subcode ${String(e.error_subcode)}` : undefined,
    typeof e.fbtrace_id === "string" ? `fbtrace_id ${e.fbtrace_id}` : undefined,
  ].filter((p): p is string => p !== undefined);
  return {
    ...(code !== undefined ? { code, retryable: WHATSAPP_RETRYABLE_CODES.has(code) } : {}),
    ...(parts.length > 0 ? { message: parts.join("; ") } : {}),
  };
}

/**
 * A {@link Notifier} for the `whatsapp` channel over the Cloud API (POST
 * `{baseUrl}/{apiVersion}/{phoneNumberId}/messages`, Bearer token). Retries Meta's throttling and transient
 * codes (see {@link WHATSAPP_RETRYABLE_CODES}), 429 and 5xx; every failure is a `DeliveryFailedError` with
 * Meta's `code` as `providerCode`.
 *
 * @example
 * ```ts
 * const notifier = new WhatsAppNotifier({ phoneNumberId, accessToken, templateName: "token", language: "pt_BR" });
 * ```
 */
export class WhatsAppNotifier implements Notifier {
  readonly #options: WhatsAppNotifierOptions;
  readonly #url: string;

  /** @param options - the sender, credentials, template and transport settings */
  constructor(options: WhatsAppNotifierOptions) {
    argOptions(options, "WhatsAppNotifier", "whatsapp");
    for (const key of ["phoneNumberId", "accessToken", "templateName"] as const) {
      if (typeof options[key] !== "string" || options[key].length === 0) {
        throw new ConfigError(`missing option ${key}`, { scope: "whatsapp" });
      }
    }
    this.#options = options;
    const base = (options.baseUrl ?? "https://graph.facebook.com").replace(/\/+$/, "");
    const version = options.apiVersion ?? WHATSAPP_DEFAULT_API_VERSION;
    this.#url = `${base}/${encodeURIComponent(version)}/${encodeURIComponent(options.phoneNumberId)}/messages`;
  }

  /** Sends the authentication template with the message's code to `message.to` (E.164). */
  async send(message: TokenMessage, sendOptions: SendOptions = {}): Promise<DeliveryReceipt> {
    const o = this.#options;
    const secrets = [o.accessToken, message.code, message.to, message.to.replace(/^\+/, "")];
    if (message.channel !== "whatsapp") {
      throw new DeliveryFailedError(`cannot send a ${message.channel} message`, {
        scope: "whatsapp",
        providerCode: "unsupported_channel",
      });
    }
    if (!/^\+?[1-9]\d{7,14}$/.test(message.to)) {
      throw new DeliveryFailedError("recipient is not an E.164 phone number", {
        scope: "whatsapp",
        providerCode: "invalid_recipient",
      });
    }
    const language =
      typeof o.language === "string"
        ? o.language
        : (o.language[message.locale] ?? Object.values(o.language)[0]);
    if (!language) {
      throw new DeliveryFailedError(`no template language for locale ${message.locale}`, {
        scope: "whatsapp",
      });
    }
    const body = buildWhatsAppTemplateBody(
      message.to,
      message.code,
      o.templateName,
      language,
      sendOptions.reference,
    );
    const result = await sendHttp(
      {
        url: this.#url,
        method: "POST",
        headers: { authorization: `Bearer ${o.accessToken}`, "content-type": "application/json" },
        body: JSON.stringify(body),
      },
      {
        ...o,
        scope: "whatsapp",
        parseError: parseWhatsAppError,
        ...(sendOptions.signal ? { signal: sendOptions.signal } : {}),
      },
      secrets,
    );
    const id = (result.body as { messages?: { id?: unknown }[] } | undefined)?.messages?.[0]?.id;
    return { channel: "whatsapp", ...(typeof id === "string" ? { providerMessageId: id } : {}) };
  }
}
