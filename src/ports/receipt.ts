/**
 * The proof that a beneficiary presented a valid token for one guide at one provider.
 *
 * @module
 */

/**
 * Returned by a successful verification; the guide state machine takes it to confirm a guide.
 * `code` is the validated code, which TISS carries as `codValidacao`.
 */
export interface VerificationReceipt {
  /** The token (or, in app mode, the TOTP step claim) that was consumed. */
  readonly tokenId: string;
  /** The guide the token was bound to. */
  readonly guideId: string;
  /** The provider the token was bound to. */
  readonly providerId: string;
  /** The beneficiary the token was issued for. */
  readonly beneficiaryId: string;
  /** The validated code (TISS `codValidacao`). */
  readonly code: string;
  /** When it was verified (ms since the epoch). */
  readonly verifiedAtMs: number;
  /** `sent`: a code delivered by a notifier; `app`: a TOTP code from the beneficiary's app. */
  readonly mode: "sent" | "app";
}
