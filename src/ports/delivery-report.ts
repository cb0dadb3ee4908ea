/**
 * A provider's report about one message it was handed (a delivery receipt), as the parsers of
 * `health-token/receipts` return it and `TokenService.applyDeliveryReport` records it.
 *
 * @module
 */

/** What a provider says happened to a message. */
export type DeliveryReportStatus = "sent" | "delivered" | "read" | "failed";

/**
 * One provider report, already authenticated by its parser (signature or shared secret checked).
 *
 * @example
 * ```ts
 * const report: DeliveryReport = { provider: "twilio", providerMessageId: "SM…", status: "delivered",
 *   dedupeKey: "SM…:delivered", reference: "ht1.…" };
 * ```
 */
export interface DeliveryReport {
  /** The provider (`whatsapp`, `twilio`, `zenvia`, or yours: lowercase letters, digits, `_`, `-`). */
  readonly provider: string;
  /** The provider's id of the message. */
  readonly providerMessageId: string;
  /** What happened to it. */
  readonly status: DeliveryReportStatus;
  /** The provider's error code, for `failed`. */
  readonly providerCode?: string | undefined;
  /** The reference the token service attached to the message, when the provider echoed it. */
  readonly reference?: string | undefined;
  /** Unique per report and the same on the provider's retries of it: a second report with it is `replayed`. */
  readonly dedupeKey: string;
  /** When the provider says it happened (ms since the epoch). */
  readonly occurredAtMs?: number | undefined;
}

/**
 * Request headers as a receipt parser reads them: a Fetch `Headers`, or a Node `IncomingHttpHeaders`-like
 * record (names matched case-insensitively).
 *
 * @example
 * ```ts
 * const headers: CallbackHeaders = request.headers; // Fetch or node:http
 * ```
 */
export type CallbackHeaders =
  | { get(name: string): string | null }
  | Readonly<Record<string, string | readonly string[] | undefined>>;
