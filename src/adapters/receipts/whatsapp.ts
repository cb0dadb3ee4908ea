/**
 * The status webhooks of the WhatsApp Cloud API: Meta POSTs `{ object: "whatsapp_business_account", entry: [{
 * changes: [{ field: "messages", value: { statuses: [{ id, status, timestamp, recipient_id,
 * biz_opaque_callback_data?, errors? }] } }] }] }` and signs the raw body in `X-Hub-Signature-256:
 * sha256=<hex HMAC-SHA256(app secret, raw body)>`.
 * Sources: https://developers.facebook.com/documentation/business-messaging/whatsapp/webhooks/reference/messages/status/,
 * https://developers.facebook.com/docs/graph-api/webhooks/getting-started#validate-payloads
 *
 * @module
 */
import { hmac } from "@noble/hashes/hmac.js";
import { sha256 } from "@noble/hashes/sha2.js";
import { utf8ToBytes } from "@noble/hashes/utils.js";
import { argOptions } from "../../_internal/args.js";
import { systemClock } from "../../ports/clock.js";
import type { CallbackHeaders, DeliveryReport, DeliveryReportStatus } from "../../ports/delivery-report.js";
import {
  assertFresh,
  bytesToHex,
  codeString,
  DEFAULT_MAX_AGE_SECONDS,
  headerOf,
  matchesAnySecret,
  parseJsonBody,
  rawBodyOf,
  reject,
  shortString,
} from "./_callback.js";

const SCOPE = "receipts:whatsapp";

/** The header Meta signs webhooks with. */
export const WHATSAPP_SIGNATURE_HEADER = "X-Hub-Signature-256";

/** Input of {@link parseWhatsAppStatusWebhook}. */
export interface WhatsAppStatusWebhookInput {
  /** The raw request body, byte for byte (not re-serialized JSON). */
  readonly rawBody: string | Uint8Array;
  /** The request headers (for `X-Hub-Signature-256`). */
  readonly headers: CallbackHeaders;
  /** The Meta app's secret, or several during a rotation. */
  readonly appSecret: string | readonly string[];
  /** Reports older than this are refused as `stale` (default 86,400 s). */
  readonly maxAgeSeconds?: number | undefined;
  /** The current time in ms (default `Date.now()`). */
  readonly nowMs?: number | undefined;
}

const STATUS: Readonly<Record<string, DeliveryReportStatus>> = {
  sent: "sent",
  delivered: "delivered",
  read: "read",
  failed: "failed",
};

/**
 * Checks the signature of a WhatsApp Cloud API webhook and returns its message-status reports (`sent`,
 * `delivered`, `read`, `failed` with Meta's error code). Other statuses and other changes (incoming messages)
 * yield nothing. Throws `ReceiptRejectedError` (`unsigned`, `forged`, `malformed`, `stale`) and then nothing
 * was read.
 *
 * @param input - raw body, headers, app secret
 *
 * @example
 * ```ts
 * const reports = parseWhatsAppStatusWebhook({ rawBody, headers: req.headers, appSecret: process.env.META_APP_SECRET! });
 * for (const report of reports) await tokens.applyDeliveryReport(report);
 * ```
 */
export function parseWhatsAppStatusWebhook(input: WhatsAppStatusWebhookInput): DeliveryReport[] {
  argOptions(input, "parseWhatsAppStatusWebhook", "receipts");
  const { bytes, text } = rawBodyOf(SCOPE, input.rawBody);
  const header = headerOf(input.headers, WHATSAPP_SIGNATURE_HEADER);
  if (header === undefined || header === "") throw reject(SCOPE, "unsigned", "no X-Hub-Signature-256 header");
  const match = /^sha256=([0-9a-fA-F]{64})$/.exec(header.trim());
  if (match === null) throw reject(SCOPE, "forged", "X-Hub-Signature-256 is not sha256=<64 hex>");
  const given = match[1]!.toLowerCase();
  const ok = matchesAnySecret(
    input.appSecret,
    (secret) => bytesToHex(hmac(sha256, utf8ToBytes(secret), bytes)),
    given,
  );
  if (!ok) throw reject(SCOPE, "forged", "the signature does not match the body");

  const body = parseJsonBody(SCOPE, text);
  const b = body as { object?: unknown; entry?: unknown };
  if (
    typeof body !== "object" ||
    body === null ||
    b.object !== "whatsapp_business_account" ||
    !Array.isArray(b.entry)
  ) {
    throw reject(SCOPE, "malformed", "not a WhatsApp Business Account webhook");
  }
  const nowMs = input.nowMs ?? systemClock.now();
  const maxAge = input.maxAgeSeconds ?? DEFAULT_MAX_AGE_SECONDS;
  const reports: DeliveryReport[] = [];
  for (const entry of b.entry as unknown[]) {
    const changes = (entry as { changes?: unknown } | null)?.changes;
    if (!Array.isArray(changes)) throw reject(SCOPE, "malformed", "entry without changes");
    for (const change of changes as unknown[]) {
      const value = (change as { value?: unknown } | null)?.value as { statuses?: unknown } | undefined;
      if (value === undefined || value === null || typeof value !== "object") {
        throw reject(SCOPE, "malformed", "change without value");
      }
      if (value.statuses === undefined) continue;
      if (!Array.isArray(value.statuses)) throw reject(SCOPE, "malformed", "statuses is not a list");
      for (const raw of value.statuses as unknown[]) {
        const s = raw as {
          id?: unknown;
          status?: unknown;
          timestamp?: unknown;
          biz_opaque_callback_data?: unknown;
          errors?: unknown;
        } | null;
        const id = shortString(s?.id);
        const statusText = shortString(s?.status, 32);
        const seconds =
          typeof s?.timestamp === "string" && /^\d{1,12}$/.test(s.timestamp) ? Number(s.timestamp) : NaN;
        if (id === undefined || statusText === undefined)
          throw reject(SCOPE, "malformed", "status without id or status");
        if (Number.isNaN(seconds)) throw reject(SCOPE, "malformed", "status without a timestamp");
        const status = STATUS[statusText];
        if (status === undefined) continue;
        const occurredAtMs = seconds * 1000;
        assertFresh(SCOPE, occurredAtMs, nowMs, maxAge);
        const firstError = Array.isArray(s?.errors)
          ? (s.errors[0] as { code?: unknown } | undefined)
          : undefined;
        const code = codeString(firstError?.code);
        const reference = shortString(s?.biz_opaque_callback_data, 512);
        reports.push({
          provider: "whatsapp",
          providerMessageId: id,
          status,
          dedupeKey: `${id}:${status}`,
          occurredAtMs,
          ...(status === "failed" && code !== undefined ? { providerCode: code } : {}),
          ...(reference !== undefined ? { reference } : {}),
        });
      }
    }
  }
  return reports;
}
