/**
 * Token events: the audit trail and the beneficiary's history.
 *
 * @module
 */
import type { Channel } from "./notifier.js";

/** Every event type the token service emits. */
export type TokenEventType =
  | "token.issued"
  | "token.delivery_started"
  | "token.delivered"
  | "token.delivery_failed"
  | "token.delivery_status"
  | "token.verified"
  | "token.rejected"
  | "token.locked"
  | "token.revoked"
  | "token.reported_unrequested"
  | "app.enrolled"
  | "lockout.reset";

/**
 * One entry of the history. It never holds a code, a CPF, or a clear phone or e-mail: contacts appear
 * only masked (`(43) 9****-1234`, `j***@e***.com`).
 */
export interface TokenEvent {
  /** Unique id of the event (random, URL-safe). */
  readonly id: string;
  /** What happened. */
  readonly type: TokenEventType;
  /** When it happened (ms since the epoch). */
  readonly atMs: number;
  /** The beneficiary whose history this belongs to (an opaque id). */
  readonly beneficiaryId: string;
  /** The guide, when the event concerns one. */
  readonly guideId?: string | undefined;
  /** The provider, when known. */
  readonly providerId?: string | undefined;
  /** The token, when the event concerns one. */
  readonly tokenId?: string | undefined;
  /** The channel of a delivery. */
  readonly channel?: Channel | undefined;
  /** The masked contact of a delivery. */
  readonly maskedContact?: string | undefined;
  /** Who received the code. */
  readonly recipient?: "beneficiary" | "guardian" | undefined;
  /** A rejection or revocation reason (`mismatch`, `superseded`, `delivery_failed`, …). */
  readonly reason?: string | undefined;
  /** Attempts left on the token after a rejection. */
  readonly attemptsLeft?: number | undefined;
  /**
   * On a `wrong_provider` rejection: the codes the presenting provider (`providerId`) has presented for guides
   * that are not its own within the failure window (`policy.failureWindowSeconds`).
   */
  readonly providerFailures?: number | undefined;
  /**
   * On a guardian's copy of an event (the code of a dependent they received): the dependent's opaque id.
   * `beneficiaryId` is then the guardian's.
   */
  readonly dependentId?: string | undefined;
  /** One delivery run of a token (`token.delivery_started` and every try and receipt of that run share it). */
  readonly deliveryId?: string | undefined;
  /** `token.delivery_started`: whether `issue` waited for it (`foreground`) or returned at once (`background`). */
  readonly mode?: "foreground" | "background" | undefined;
  /** `token.delivery_started`: when the run gives up at the latest (ms since the epoch). */
  readonly deadlineAtMs?: number | undefined;
  /** `token.delivered` / `token.delivery_failed`: how long the try took (ms). */
  readonly durationMs?: number | undefined;
  /** The provider's message id of a delivery, or of the message a receipt is about. */
  readonly providerMessageId?: string | undefined;
  /** `token.delivery_status`: what the provider reported (`sent`, `delivered`, `read`, `failed`). */
  readonly deliveryStatus?: "sent" | "delivered" | "read" | "failed" | undefined;
  /** `token.delivery_status`: the provider (`whatsapp`, `twilio`, `zenvia`). */
  readonly provider?: string | undefined;
  /** `token.delivery_status` (failed): the provider's own error code. */
  readonly providerCode?: string | undefined;
}
