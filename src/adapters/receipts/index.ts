/**
 * health-token/receipts: parsers of the providers' delivery-status callbacks, each checking the provider's
 * signature (or shared secret) before reading a field, and returning `DeliveryReport`s for
 * `TokenService.applyDeliveryReport`. No driver, no I/O: hand them the raw body, the headers and the secret.
 *
 * - {@link parseWhatsAppStatusWebhook}: WhatsApp Cloud API, `X-Hub-Signature-256`.
 * - {@link parseTwilioStatusCallback}: Twilio, `X-Twilio-Signature`.
 * - {@link parseZenviaStatusWebhook}: Zenvia v2 subscriptions, a secret header.
 *
 * Each throws `ReceiptRejectedError` (from `health-token`) with `reason` `unsigned`, `forged`, `malformed` or
 * `stale`; `applyDeliveryReport` adds `replayed` and `unknown_token`.
 *
 * @example
 * ```ts
 * import { parseTwilioStatusCallback } from "health-token/receipts";
 *
 * const reports = parseTwilioStatusCallback({ url, rawBody, headers, authToken: process.env.TWILIO_AUTH_TOKEN! });
 * for (const report of reports) await tokens.applyDeliveryReport(report);
 * ```
 *
 * @module
 */
export type { CallbackHeaders, DeliveryReport, DeliveryReportStatus } from "../../ports/delivery-report.js";
export {
  parseTwilioStatusCallback,
  TWILIO_SIGNATURE_HEADER,
  type TwilioStatusCallbackInput,
  twilioSignature,
} from "./twilio.js";
export {
  parseWhatsAppStatusWebhook,
  WHATSAPP_SIGNATURE_HEADER,
  type WhatsAppStatusWebhookInput,
} from "./whatsapp.js";
export {
  parseZenviaStatusWebhook,
  ZENVIA_MIN_SECRET_LENGTH,
  ZENVIA_SECRET_HEADER,
  type ZenviaStatusWebhookInput,
} from "./zenvia.js";
