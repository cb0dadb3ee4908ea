/**
 * The attendance desk: the guide and its token as one lifecycle, from eligibility to billing. It owns the
 * order of the steps, so no sequence of its calls issues a code for a guide that cannot be confirmed or
 * leaves a code alive after the guide is cancelled, denied or expired.
 *
 * @module
 */
import type { GuidePolicy } from "../../guide/states.js";
import type { Clock } from "../../ports/clock.js";
import type { GuideRepository } from "../../ports/guides.js";
import type { TokenService } from "../token-service.js";
import type { TokenRollout } from "./rollout.js";
import type {
  Attendance,
  AuthorizeInput,
  BillInput,
  ConfirmInput,
  ConfirmResult,
  ConfirmWithoutTokenInput,
  DenyInput,
  GuideRef,
  OpenAttendanceInput,
  RecordEligibilityInput,
  RequestTokenInput,
  RequestTokenResult,
  ReviewInput,
} from "./types.js";

/** Options of {@link createAttendanceDesk}. */
export interface AttendanceDeskOptions {
  /** The token service that issues, verifies and revokes the codes. */
  readonly tokens: TokenService;
  /** Where the guides live (`new MemoryGuideRepository()`, or `PostgresGuideRepository`). */
  readonly guides: GuideRepository;
  /** The clock (default: the system clock); give it the token service's clock. */
  readonly clock?: Clock;
  /** The billing and return windows of the guide machine. */
  readonly guidePolicy?: GuidePolicy;
  /** Per guide, whether a token is required (default: every guide). */
  readonly rollout?: TokenRollout;
  /**
   * Whether authorization needs a recorded, positive eligibility check: `true` for every guide, `false`
   * (the default) for none, or a function deciding per guide.
   */
  readonly eligibilityRequired?: boolean | ((guide: OpenAttendanceInput["guide"]) => boolean);
}

/**
 * The attendance desk. Every step loads the guide, applies one event of the guide machine and saves it
 * with optimistic concurrency: a lost race throws `GuideConflictError` and changes nothing. A refused step
 * throws `GuideTransitionError` (or `AttendanceRefusedError` for the desk's own rules); a wrong code never
 * throws.
 */
export interface AttendanceDesk {
  /** Creates the guide (state `requested`) and decides, by the rollout policy, whether it needs a token. */
  open(input: OpenAttendanceInput): Promise<Attendance>;
  /** The attendance of a guide; throws `GuideNotFoundError` when there is none. */
  get(guideId: string): Promise<Attendance>;
  /** Records the operator's eligibility answer (elegibilidade), with its reason and time. */
  recordEligibility(input: RecordEligibilityInput): Promise<Attendance>;
  /** One of the operator's review steps (em análise, aguardando justificativa, aguardando documentação). */
  review(input: ReviewInput): Promise<Attendance>;
  /** The operator authorizes (senha and its validity); refused when eligibility is required and missing. */
  authorize(input: AuthorizeInput): Promise<Attendance>;
  /** The operator denies; a live code is revoked in the same step. */
  deny(input: DenyInput): Promise<Attendance>;
  /**
   * Issues and delivers a code, only for an authorized guide whose senha is valid and that needs a token.
   * The code lives no longer than the senha.
   */
  requestToken(input: RequestTokenInput): Promise<RequestTokenResult>;
  /** Verifies the code and confirms the guide in one call; the receipt is bound to the guide. */
  confirm(input: ConfirmInput): Promise<ConfirmResult>;
  /** Confirms with a TISS table 74 reason, or without proof when the guide needs no token. */
  confirmWithoutToken(input: ConfirmWithoutTokenInput): Promise<Attendance>;
  /** Cancels; a live code is revoked in the same step. */
  cancel(input: GuideRef): Promise<Attendance>;
  /** Expires the guide when its senha or billing window has passed (revoking a live code); else unchanged. */
  expireIfDue(input: GuideRef): Promise<Attendance>;
  /** Bills a confirmed guide inside the billing window; a second bill is refused. */
  bill(input: BillInput): Promise<Attendance>;
  /**
   * Whether this consultation is a return visit (`tipoConsulta` 2): the same beneficiary and provider had
   * a confirmed consultation within the return window.
   */
  isReturnVisit(input: GuideRef): Promise<boolean>;
}
