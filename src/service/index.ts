/**
 * The token service (re-exported by the root entry).
 *
 * @module
 */

export {
  type MemoryStoreSnapshot,
  MemoryTokenStore,
  type MemoryTokenStoreOptions,
} from "../adapters/memory.js";
export { MemoryGuideRepository } from "../adapters/memory-guides.js";
// The public contact helpers (phone E.164 normalization, e-mail validation, masks).
export {
  maskContact,
  maskEmail,
  maskPhone,
  type NormalizedPhone,
  normalizeContactAddress,
  normalizeEmail,
  normalizePhone,
} from "../contacts.js";
export {
  contextForChannel,
  DEFAULT_MESSAGE_CONTEXT,
  type MessageContextPolicy,
} from "../messages/context.js";
export { rateLimitKeys } from "../policy/rate-limit.js";
export {
  DEFAULT_POLICY,
  resolvePolicy,
  type TokenPolicy,
  type TokenPolicyInput,
  tokenPolicySchema,
} from "../policy/token-policy.js";
export type { AppEnrollment, SecretsKey, SecretsKeyOption, VerifyAppCodeInput } from "./app-mode.js";
export * from "./attendance/index.js";
export type {
  ChannelNotifiers,
  ContactChoice,
  ContactInput,
  NotifierOption,
  PersonInput,
} from "./delivery.js";
export { DELIVERY_DEFAULTS, type DeliveryOptions } from "./delivery-run.js";
export type {
  DeliveryNextStep,
  DeliveryReportResult,
  DeliveryStatus,
  TokenState,
} from "./delivery-status.js";
export type { LimitCounter, LimitsReport, ResetLockoutOptions, ResetLockoutResult } from "./limits.js";
export { parseContact, parsePerson } from "./people.js";
export {
  createTokenService,
  type HistoryOptions,
  type IssueInput,
  type IssueResult,
  type PendingIssueResult,
  type Pepper,
  type ReportUnrequestedInput,
  type ResendResult,
  type RevokeInput,
  type RevokeResult,
  type TokenService,
  type TokenServiceOptions,
} from "./token-service.js";
export type { RejectReason, VerifyInput, VerifyResult } from "./verification.js";
