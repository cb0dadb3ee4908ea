/**
 * Twilio's message status callbacks: Twilio POSTs `application/x-www-form-urlencoded` parameters
 * (`MessageSid`, `MessageStatus`, `ErrorCode`, `AccountSid`, …) to the message's `StatusCallback` URL and signs
 * it in `X-Twilio-Signature`: base64 of HMAC-SHA1(auth token, the full URL + every POST parameter's name and
 * value, sorted by name). Twilio gives no timestamp: a replay is caught by the `MessageSid` + status dedupe.
 * Sources: https://www.twilio.com/docs/usage/webhooks/webhooks-security,
 * https://www.twilio.com/docs/messaging/guides/track-outbound-message-status
 *
 * @module
 */
import { hmac } from "@noble/hashes/hmac.js";
import { sha1 } from "@noble/hashes/legacy.js";
import { utf8ToBytes } from "@noble/hashes/utils.js";
import { argObject, argOptions, argString } from "../../_internal/args.js";
import type { CallbackHeaders, DeliveryReport, DeliveryReportStatus } from "../../ports/delivery-report.js";
import { base64Of, headerOf, matchesAnySecret, rawBodyOf, reject, shortString } from "./_callback.js";

const SCOPE = "receipts:twilio";

/** The header Twilio signs requests with. */
export const TWILIO_SIGNATURE_HEADER = "X-Twilio-Signature";

/** The query parameter of the `StatusCallback` URL that carries the token service's reference. */
const REFERENCE_PARAM = "ht_ref";

/** Input of {@link parseTwilioStatusCallback}. */
export interface TwilioStatusCallbackInput {
  /**
   * The full public URL Twilio called, query string included, exactly as configured in `StatusCallback` (behind
   * a proxy: the outside scheme, host and port, not the inner ones).
   */
  readonly url: string;
  /** The raw form-encoded body. */
  readonly rawBody: string | Uint8Array;
  /** The request headers (for `X-Twilio-Signature`). */
  readonly headers: CallbackHeaders;
  /** The account's auth token (the primary, and the secondary during a rotation). */
  readonly authToken: string | readonly string[];
  /** When given, a callback for another account is refused as `forged`. */
  readonly accountSid?: string | undefined;
}

/**
 * Twilio's signature of a request: base64(HMAC-SHA1(authToken, url + name₁value₁ + name₂value₂ …)) with the
 * POST parameters sorted by name (and, for a repeated name, by value).
 *
 * @example
 * ```ts
 * const signature = twilioSignature(token, "https://example.org/receipts/twilio", new URLSearchParams(rawBody));
 * ```
 */
export function twilioSignature(authToken: string, url: string, params: URLSearchParams): string {
  argString(authToken, "authToken");
  argString(url, "url");
  if (!(params instanceof URLSearchParams)) argObject(undefined, "params");
  const pairs = [...params.entries()].sort(([ak, av], [bk, bv]) =>
    ak < bk ? -1 : ak > bk ? 1 : av < bv ? -1 : av > bv ? 1 : 0,
  );
  let data = url;
  for (const [key, value] of pairs) data += key + value;
  return base64Of(hmac(sha1, utf8ToBytes(authToken), utf8ToBytes(data)));
}

const STATUS: Readonly<Record<string, DeliveryReportStatus>> = {
  sent: "sent",
  delivered: "delivered",
  read: "read",
  failed: "failed",
  undelivered: "failed",
};

/**
 * Checks the signature of a Twilio status callback and returns its report (`sent`, `delivered`, `read`,
 * `failed` for `failed` and `undelivered`, with Twilio's `ErrorCode`); the intermediate statuses (`queued`,
 * `sending`, `accepted`, `scheduled`) yield none. Throws `ReceiptRejectedError` (`unsigned`, `forged`,
 * `malformed`) and then nothing was read.
 *
 * @param input - URL, raw body, headers, auth token
 *
 * @example
 * ```ts
 * const reports = parseTwilioStatusCallback({
 *   url: "https://api.operadora.example/receipts/twilio?ht_ref=…", rawBody, headers: req.headers, authToken,
 * });
 * ```
 */
export function parseTwilioStatusCallback(input: TwilioStatusCallbackInput): DeliveryReport[] {
  argOptions(input, "parseTwilioStatusCallback", "receipts");
  const { text } = rawBodyOf(SCOPE, input.rawBody);
  const given = headerOf(input.headers, TWILIO_SIGNATURE_HEADER)?.trim();
  if (given === undefined || given === "") throw reject(SCOPE, "unsigned", "no X-Twilio-Signature header");
  let url: URL;
  try {
    url = new URL(input.url);
  } catch {
    throw reject(SCOPE, "malformed", "url is not an absolute URL");
  }
  const params = new URLSearchParams(text);
  const ok = matchesAnySecret(input.authToken, (token) => twilioSignature(token, input.url, params), given);
  if (!ok) throw reject(SCOPE, "forged", "the signature does not match the URL and parameters");
  if (input.accountSid !== undefined && params.get("AccountSid") !== input.accountSid) {
    throw reject(SCOPE, "forged", "the callback is for another account");
  }
  const sid = shortString(params.get("MessageSid") ?? params.get("SmsSid"), 64);
  const statusText = shortString(params.get("MessageStatus") ?? params.get("SmsStatus"), 32);
  if (sid === undefined || statusText === undefined)
    throw reject(SCOPE, "malformed", "no MessageSid or MessageStatus");
  const status = STATUS[statusText];
  if (status === undefined) return [];
  const code = shortString(params.get("ErrorCode"), 16);
  const reference = shortString(url.searchParams.get(REFERENCE_PARAM), 512);
  return [
    {
      provider: "twilio",
      providerMessageId: sid,
      status,
      dedupeKey: `${sid}:${statusText}`,
      ...(status === "failed" && code !== undefined ? { providerCode: code } : {}),
      ...(reference !== undefined ? { reference } : {}),
    },
  ];
}
