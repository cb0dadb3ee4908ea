/**
 * Zenvia's MESSAGE_STATUS webhooks (API v2 subscriptions): Zenvia POSTs JSON `{ id, timestamp, type:
 * "MESSAGE_STATUS", subscriptionId, channel, messageId, messageStatus: { timestamp, code, description, causes:
 * [{ channelErrorCode, reason, details }] } }`. Zenvia does not sign its webhooks; a subscription's
 * `webhook.headers` are sent with every event, so authentication is a random secret header you set there,
 * compared here in constant time. Replays are caught by the event `id` dedupe and the timestamp's age.
 * Sources: https://zenvia.github.io/zenvia-openapi-spec/v2/#tag/Subscriptions,
 * https://zenvia.github.io/zenvia-openapi-spec/v2/#section/Message-status
 *
 * @module
 */

import { argOptions } from "../../_internal/args.js";
import { systemClock } from "../../ports/clock.js";
import type { CallbackHeaders, DeliveryReport, DeliveryReportStatus } from "../../ports/delivery-report.js";
import {
  assertFresh,
  codeString,
  DEFAULT_MAX_AGE_SECONDS,
  headerOf,
  matchesAnySecret,
  parseJsonBody,
  rawBodyOf,
  reject,
  secretsOf,
  shortString,
} from "./_callback.js";

const SCOPE = "receipts:zenvia";

/** The default name of the secret header set in the subscription's `webhook.headers`. */
export const ZENVIA_SECRET_HEADER = "X-Health-Token-Webhook-Secret";

/** The shortest secret accepted (it is the only proof the call came from Zenvia). */
export const ZENVIA_MIN_SECRET_LENGTH = 24;

/** Input of {@link parseZenviaStatusWebhook}. */
export interface ZenviaStatusWebhookInput {
  /** The raw request body. */
  readonly rawBody: string | Uint8Array;
  /** The request headers. */
  readonly headers: CallbackHeaders;
  /** The secret set in the subscription's `webhook.headers` (at least 24 characters), or several. */
  readonly secret: string | readonly string[];
  /** The header's name (default {@link ZENVIA_SECRET_HEADER}). */
  readonly headerName?: string | undefined;
  /** Reports older than this are refused as `stale` (default 86,400 s). */
  readonly maxAgeSeconds?: number | undefined;
  /** The current time in ms (default `Date.now()`). */
  readonly nowMs?: number | undefined;
}

const STATUS: Readonly<Record<string, DeliveryReportStatus>> = {
  SENT: "sent",
  DELIVERED: "delivered",
  READ: "read",
  REJECTED: "failed",
  NOT_DELIVERED: "failed",
};

/**
 * Checks the secret header of a Zenvia webhook and returns its status report (`SENT`, `DELIVERED`, `READ`;
 * `REJECTED` and `NOT_DELIVERED` as `failed` with the first cause's `channelErrorCode`, or Zenvia's code). A
 * `MESSAGE` event or another status code yields none. Throws `ReceiptRejectedError` (`unsigned`, `forged`,
 * `malformed`, `stale`) and then nothing was read.
 *
 * @param input - raw body, headers, secret
 *
 * @example
 * ```ts
 * const reports = parseZenviaStatusWebhook({ rawBody, headers: req.headers, secret: process.env.ZENVIA_WEBHOOK_SECRET! });
 * ```
 */
export function parseZenviaStatusWebhook(input: ZenviaStatusWebhookInput): DeliveryReport[] {
  argOptions(input, "parseZenviaStatusWebhook", "receipts");
  const { text } = rawBodyOf(SCOPE, input.rawBody);
  const given = headerOf(input.headers, input.headerName ?? ZENVIA_SECRET_HEADER);
  if (given === undefined || given === "") throw reject(SCOPE, "unsigned", "no secret header");
  const secrets = secretsOf(input.secret).filter((s) => s.length >= ZENVIA_MIN_SECRET_LENGTH);
  if (!matchesAnySecret(secrets, (secret) => secret, given))
    throw reject(SCOPE, "forged", "the secret header does not match");

  const body = parseJsonBody(SCOPE, text);
  const e = body as {
    id?: unknown;
    timestamp?: unknown;
    type?: unknown;
    messageId?: unknown;
    externalId?: unknown;
    message?: { externalId?: unknown };
    messageStatus?: { code?: unknown; causes?: unknown };
  } | null;
  if (typeof body !== "object" || e === null) throw reject(SCOPE, "malformed", "not an event");
  const id = shortString(e.id);
  if (id === undefined || typeof e.type !== "string")
    throw reject(SCOPE, "malformed", "event without id or type");
  if (e.type !== "MESSAGE_STATUS") return [];
  const messageId = shortString(e.messageId);
  const codeText = shortString(e.messageStatus?.code, 32);
  if (messageId === undefined || codeText === undefined) {
    throw reject(SCOPE, "malformed", "status event without messageId or messageStatus.code");
  }
  const occurredAtMs = typeof e.timestamp === "string" ? Date.parse(e.timestamp) : Number.NaN;
  assertFresh(
    SCOPE,
    occurredAtMs,
    input.nowMs ?? systemClock.now(),
    input.maxAgeSeconds ?? DEFAULT_MAX_AGE_SECONDS,
  );
  const status = STATUS[codeText];
  if (status === undefined) return [];
  const causes = Array.isArray(e.messageStatus?.causes) ? e.messageStatus.causes : [];
  const cause = causes[0] as { channelErrorCode?: unknown } | undefined;
  const providerCode = codeString(cause?.channelErrorCode) ?? codeText;
  const reference = shortString(e.externalId ?? e.message?.externalId, 512);
  return [
    {
      provider: "zenvia",
      providerMessageId: messageId,
      status,
      dedupeKey: id,
      occurredAtMs,
      ...(status === "failed" ? { providerCode } : {}),
      ...(reference !== undefined ? { reference } : {}),
    },
  ];
}
