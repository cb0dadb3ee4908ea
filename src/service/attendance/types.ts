/**
 * The attendance desk's inputs and results.
 *
 * @module
 */

import type { Guide, GuideInput } from "../../guide/states.js";
import type { AbsenceReasonCode } from "../../guide/tiss.js";
import type { AttendanceDisplay, EligibilityCheck } from "../../ports/guides.js";
import type { Channel } from "../../ports/notifier.js";
import type { PersonInput } from "../delivery.js";
import type { IssueResult } from "../token-service.js";
import type { RejectReason } from "../verification.js";

/**
 * An attendance as the desk returns it: the stored record, its version and what can be done next.
 *
 * @example
 * ```ts
 * const a = await desk.get("G-1");
 * a.guide.state; // "authorized"
 * a.canRequestToken; // true
 * ```
 */
export interface Attendance {
  /** The guide. */
  readonly guide: Guide;
  /** The version stored in the repository (grows by one with every step). */
  readonly version: number;
  /** The beneficiary's opaque id. */
  readonly beneficiaryId: string;
  /** Whether the guide needs a token (the rollout policy); when not, it confirms without proof. */
  readonly tokenRequired: boolean;
  /** The latest eligibility check. */
  readonly eligibility?: EligibilityCheck;
  /** What the code's message may show. */
  readonly display?: AttendanceDisplay;
  /** Whether {@link AttendanceDesk.requestToken} would issue a code now. */
  readonly canRequestToken: boolean;
  /** Whether {@link AttendanceDesk.confirm} (or `confirmWithoutToken`) would be accepted now. */
  readonly canConfirm: boolean;
}

/** What {@link AttendanceDesk.open} takes. */
export interface OpenAttendanceInput {
  /** The guide's fields, as for `createGuide`. */
  readonly guide: GuideInput;
  /** The beneficiary's opaque id (the `id` of the `PersonInput` that will receive the code). */
  readonly beneficiaryId: string;
  /** What the code's message may show (provider display name, procedure summary). */
  readonly display?: AttendanceDisplay | undefined;
}

/** What {@link AttendanceDesk.recordEligibility} takes: the operator's answer. */
export interface RecordEligibilityInput {
  /** The guide. */
  readonly guideId: string;
  /** Whether the operator said the beneficiary is eligible. */
  readonly eligible: boolean;
  /** The operator's reason or message (1 to 200 characters). */
  readonly reason?: string | undefined;
  /** When the operator answered (ms); default: the desk's clock. */
  readonly checkedAtMs?: number | undefined;
}

/** What {@link AttendanceDesk.authorize} takes. */
export interface AuthorizeInput {
  /** The guide. */
  readonly guideId: string;
  /** The operator's senha, 1 to 20 characters. */
  readonly senha: string;
  /** `dataValidadeSenha`, `YYYY-MM-DD`. */
  readonly validUntil: string;
  /** Partial authorization (TISS status 7). */
  readonly partial?: boolean | undefined;
}

/** What {@link AttendanceDesk.review} takes: one of the operator's review steps. */
export interface ReviewInput {
  /** The guide. */
  readonly guideId: string;
  /** The step. */
  readonly step: "start_review" | "request_justification" | "request_documents";
}

/** What {@link AttendanceDesk.deny} takes. */
export interface DenyInput {
  /** The guide. */
  readonly guideId: string;
  /** Glosa codes (TISS table 38, 4 digits), at least one. */
  readonly glosas: readonly string[];
}

/** What {@link AttendanceDesk.requestToken} takes: who receives the code and how. */
export interface RequestTokenInput {
  /** The guide. */
  readonly guideId: string;
  /** The beneficiary; `id` must be the attendance's `beneficiaryId`. */
  readonly beneficiary: PersonInput;
  /** The guardian (or holder) who receives a minor's code; their history records it too. */
  readonly guardian?: PersonInput | undefined;
  /** The contact chosen by the attendant from `listContacts`. */
  readonly contactId?: string | undefined;
  /** Only this channel. */
  readonly channel?: Channel | undefined;
}

/** The result of {@link AttendanceDesk.requestToken}: the attendance and the issue (never the code). */
export interface RequestTokenResult {
  /** The attendance (unchanged by the issue). */
  readonly attendance: Attendance;
  /** Where the code went and until when it is valid. */
  readonly issued: IssueResult;
}

/** What {@link AttendanceDesk.confirm} takes: the code the attendant typed. */
export interface ConfirmInput {
  /** The guide. */
  readonly guideId: string;
  /** The attendant's provider code; must be the guide's. */
  readonly providerId: string;
  /** The code as typed. */
  readonly code: string;
  /** `app`: a code from the beneficiary's app (TOTP); default `sent`. */
  readonly mode?: "sent" | "app" | undefined;
}

/**
 * The result of {@link AttendanceDesk.confirm}: the confirmed attendance, or why the code was refused
 * (a wrong code never throws).
 */
export type ConfirmResult =
  | { readonly ok: true; readonly attendance: Attendance }
  | { readonly ok: false; readonly reason: RejectReason; readonly attemptsLeft?: number };

/** What {@link AttendanceDesk.confirmWithoutToken} takes. */
export interface ConfirmWithoutTokenInput {
  /** The guide. */
  readonly guideId: string;
  /** The attendant's provider code; must be the guide's. */
  readonly providerId: string;
  /**
   * A TISS table 74 reason. Required when the guide needs a token; left out when the rollout policy says it
   * does not (then neither TISS field is written).
   */
  readonly absence?: { readonly reason: AbsenceReasonCode; readonly justification: string } | undefined;
}

/** What {@link AttendanceDesk.cancel} and {@link AttendanceDesk.expireIfDue} take. */
export interface GuideRef {
  /** The guide. */
  readonly guideId: string;
}

/** What {@link AttendanceDesk.bill} takes. */
export interface BillInput {
  /** The guide. */
  readonly guideId: string;
  /** The batch (`numeroLote`, 1 to 12 characters). */
  readonly batchId: string;
}
