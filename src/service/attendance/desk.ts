/**
 * The attendance desk: the guide and its token as one lifecycle, from eligibility to billing. It owns the
 * order of the steps, so no sequence of its calls issues a code for a guide that cannot be confirmed or
 * leaves a code alive after the guide is cancelled, denied or expired.
 *
 * @module
 */
import { z } from "zod";
import {
  AttendanceRefusedError,
  ConfigError,
  GuideConflictError,
  GuideNotFoundError,
  GuideTransitionError,
  HealthTokenError,
  StoreUnavailableError,
} from "../../errors.js";
import { dayNumberOfDate, endOfSaoPauloDayMs } from "../../guide/_dates.js";
import { availableEvents, createGuide, expireIfDue, transition } from "../../guide/machine.js";
import type { Guide, GuideEvent, GuidePolicy } from "../../guide/states.js";
import { REVIEW_GUIDE_STATES, TERMINAL_GUIDE_STATES } from "../../guide/states.js";
import { isReturnVisit } from "../../guide/tiss.js";
import { type Clock, systemClock } from "../../ports/clock.js";
import type {
  AttendanceDisplay,
  AttendanceRecord,
  GuideRepository,
  StoredAttendance,
} from "../../ports/guides.js";
import { parseInput, type TokenService } from "../token-service.js";
import { everyGuideRequiresToken, type TokenRollout } from "./rollout.js";
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
  readonly clock?: Clock | undefined;
  /** The billing and return windows of the guide machine. */
  readonly guidePolicy?: GuidePolicy | undefined;
  /** Per guide, whether a token is required (default: every guide). */
  readonly rollout?: TokenRollout | undefined;
  /**
   * Whether authorization needs a recorded, positive eligibility check: `true` for every guide, `false`
   * (the default) for none, or a function deciding per guide.
   */
  readonly eligibilityRequired?: (boolean | ((guide: OpenAttendanceInput["guide"]) => boolean)) | undefined;
}

/**
 * The attendance desk. Every step loads the guide, applies one event of the guide machine and saves it
 * with optimistic concurrency: a lost race throws `GuideConflictError` and changes nothing. A refused step
 * throws `GuideTransitionError` (or `AttendanceRefusedError` for the desk's own rules); a wrong code never
 * throws.
 *
 * @example
 * ```ts
 * const desk = createAttendanceDesk({ tokens, guides: new MemoryGuideRepository() });
 * await desk.open({ guide: guideInput, beneficiaryId: "BEN-1" });
 * await desk.authorize({ guideId: "G-1", senha: "CO2026000001", validUntil: "2026-12-31" });
 * await desk.requestToken({ guideId: "G-1", beneficiary });
 * const result = await desk.confirm({ guideId: "G-1", providerId: "PRV-1", code });
 * ```
 */
export interface AttendanceDesk {
  /**
   * Creates the guide (state `requested`) and decides, by the rollout policy, whether it needs a token.
   *
   * @example
   * ```ts
   * const attendance = await desk.open({
   *   guide: { id: "G-1", type: "consulta", character: "eletiva", beneficiary: { cardNumber: "0064000012345678" },
   *     provider: { code: "PRV-1" }, procedures: [{ tuss: "10101012", quantity: 1 }] },
   *   beneficiaryId: "BEN-1",
   *   display: { providerName: "Clínica Exemplo", procedureSummary: "Consulta eletiva" },
   * });
   * attendance.guide.state; // "requested"
   * ```
   */
  open(input: OpenAttendanceInput): Promise<Attendance>;
  /**
   * The attendance of a guide; throws `GuideNotFoundError` when there is none.
   *
   * @example
   * ```ts
   * const { guide } = await desk.get("G-1");
   * ```
   */
  get(guideId: string): Promise<Attendance>;
  /**
   * Records the operator's eligibility answer (elegibilidade), with its reason and time.
   *
   * @example
   * ```ts
   * await desk.recordEligibility({ guideId: "G-1", eligible: true, reason: "beneficiário ativo" });
   * ```
   */
  recordEligibility(input: RecordEligibilityInput): Promise<Attendance>;
  /**
   * One of the operator's review steps (em análise, aguardando justificativa, aguardando documentação).
   *
   * @example
   * ```ts
   * await desk.review({ guideId: "G-1", step: "request_documents" }); // aguardando documentação
   * ```
   */
  review(input: ReviewInput): Promise<Attendance>;
  /**
   * The operator authorizes (senha and its validity); refused when eligibility is required and missing.
   *
   * @example
   * ```ts
   * await desk.authorize({ guideId: "G-1", senha: "CO2026000001", validUntil: "2026-12-31" });
   * ```
   */
  authorize(input: AuthorizeInput): Promise<Attendance>;
  /**
   * The operator denies; a live code is revoked in the same step.
   *
   * @example
   * ```ts
   * await desk.deny({ guideId: "G-1", glosas: ["1801"] }); // TISS table 38 reasons
   * ```
   */
  deny(input: DenyInput): Promise<Attendance>;
  /**
   * Issues and delivers a code, only for an authorized guide whose senha is valid and that needs a token.
   * The code lives no longer than the senha.
   *
   * @example
   * ```ts
   * const { issued } = await desk.requestToken({ guideId: "G-1", beneficiary, channel: "sms" });
   * console.log(issued.deliveredTo); // "(43) 9****-0001": masked, and no code
   * ```
   */
  requestToken(input: RequestTokenInput): Promise<RequestTokenResult>;
  /**
   * Verifies the code and confirms the guide in one call; the receipt is bound to the guide.
   *
   * @example
   * ```ts
   * const result = await desk.confirm({ guideId: "G-1", providerId: "PRV-1", code: "492039" });
   * if (!result.ok) console.log(result.reason, result.attemptsLeft); // "mismatch" 4
   * ```
   */
  confirm(input: ConfirmInput): Promise<ConfirmResult>;
  /**
   * Confirms with a TISS table 74 reason, or without proof when the guide needs no token.
   *
   * @example
   * ```ts
   * await desk.confirmWithoutToken({
   *   guideId: "G-1",
   *   providerId: "PRV-1",
   *   absence: { reason: "07", justification: "beneficiário sem celular no atendimento" }, // TISS table 74
   * });
   * ```
   */
  confirmWithoutToken(input: ConfirmWithoutTokenInput): Promise<Attendance>;
  /**
   * Cancels; a live code is revoked in the same step.
   *
   * @example
   * ```ts
   * await desk.cancel({ guideId: "G-1" }); // a live code is revoked too
   * ```
   */
  cancel(input: GuideRef): Promise<Attendance>;
  /**
   * Expires the guide when its senha or billing window has passed (revoking a live code); else unchanged.
   *
   * @example
   * ```ts
   * for (const guideId of openGuideIds) await desk.expireIfDue({ guideId }); // e.g. from a nightly job
   * ```
   */
  expireIfDue(input: GuideRef): Promise<Attendance>;
  /**
   * Bills a confirmed guide inside the billing window; a second bill is refused.
   *
   * @example
   * ```ts
   * await desk.bill({ guideId: "G-1", batchId: "LOTE-2026-12" });
   * ```
   */
  bill(input: BillInput): Promise<Attendance>;
  /**
   * Whether this consultation is a return visit (`tipoConsulta` 2): the same beneficiary and provider had
   * a confirmed consultation within the return window.
   *
   * @example
   * ```ts
   * const tipoConsulta = (await desk.isReturnVisit({ guideId: "G-2" })) ? "2" : "1";
   * ```
   */
  isReturnVisit(input: GuideRef): Promise<boolean>;
}

// ------------------------------------------------------------------ inputs

const idSchema = z.string().min(1).max(128);
const label = z.string().min(1).max(60);
const openSchema = z.object({
  guide: z.unknown(),
  beneficiaryId: idSchema,
  display: z.strictObject({ providerName: label.optional(), procedureSummary: label.optional() }).optional(),
});
const eligibilitySchema = z.object({
  guideId: idSchema,
  eligible: z.boolean(),
  reason: z.string().min(1).max(200).optional(),
  checkedAtMs: z.int().min(0).optional(),
});
const refSchema = z.object({ guideId: idSchema });
const providerRefSchema = z.object({ guideId: idSchema, providerId: idSchema });

/** Whether a guide can take `confirm` now (state and senha validity). */
function confirmable(guide: Guide, nowMs: number, policy: GuidePolicy | undefined): boolean {
  return availableEvents(guide, policy ? { nowMs, policy } : { nowMs }).includes("confirm");
}

/** The machine's own reason for refusing `confirm` now. */
function confirmRefusal(guide: Guide): GuideTransitionError {
  if (availableEvents(guide).includes("confirm")) {
    return new GuideTransitionError(guide.state, "confirm", "senha_expired");
  }
  const terminal = TERMINAL_GUIDE_STATES.includes(guide.state);
  return new GuideTransitionError(guide.state, "confirm", terminal ? "terminal_state" : "illegal_event");
}

/** The end of the senha's validity (ms): no code may outlive it. */
function senhaEndMs(guide: Guide): number {
  const day = dayNumberOfDate(guide.authorization?.validUntil ?? "");
  return day === undefined ? 0 : endOfSaoPauloDayMs(day);
}

function repoOp<T>(op: () => Promise<T>): Promise<T> {
  const fail = (error: unknown): never => {
    if (error instanceof HealthTokenError) throw error;
    throw new StoreUnavailableError("the guide repository failed", { cause: error, scope: "guides" });
  };
  try {
    return Promise.resolve(op()).catch(fail);
  } catch (error) {
    return Promise.reject(error).catch(fail);
  }
}

function assertMethods(value: unknown, what: string, methods: readonly string[]): void {
  if (typeof value !== "object" || value === null) throw new ConfigError(`${what} is required`);
  for (const m of methods) {
    if (typeof (value as Record<string, unknown>)[m] !== "function") {
      throw new ConfigError(`${what} is missing ${m}()`);
    }
  }
}

// ------------------------------------------------------------------ the desk

/**
 * Creates the attendance desk over a token service and a guide repository.
 *
 * @example
 * ```ts
 * const desk = createAttendanceDesk({ tokens, guides: new MemoryGuideRepository(), clock });
 * await desk.open({ guide: guideInput, beneficiaryId: "BEN-1" });
 * await desk.authorize({ guideId: "G-1", senha: "CO2026000001", validUntil: "2026-12-31" });
 * await desk.requestToken({ guideId: "G-1", beneficiary });
 * const result = await desk.confirm({ guideId: "G-1", providerId: "PRV-1", code: typedByAttendant });
 * if (result.ok) await desk.bill({ guideId: "G-1", batchId: "LOTE-1" });
 * ```
 */
export function createAttendanceDesk(options: AttendanceDeskOptions): AttendanceDesk {
  if (typeof options !== "object" || options === null) throw new ConfigError("options are required");
  assertMethods(options.tokens, "tokens", ["issue", "verify", "verifyAppCode", "revoke"]);
  assertMethods(options.guides, "guides", ["load", "save", "list"]);
  const { tokens, guides } = options;
  const clock = options.clock ?? systemClock;
  if (typeof clock.now !== "function") throw new ConfigError("clock must have now()");
  const policy = options.guidePolicy;
  const rollout = options.rollout ?? everyGuideRequiresToken;
  if (typeof rollout !== "function") throw new ConfigError("rollout must be a function");
  const eligibility = options.eligibilityRequired ?? false;
  const needsEligibility = typeof eligibility === "function" ? eligibility : () => eligibility === true;

  const ctxOf = (rec: AttendanceRecord, nowMs: number) => ({
    nowMs,
    ...(policy ? { policy } : {}),
    proofRequired: rec.tokenRequired,
  });

  const view = (rec: StoredAttendance, nowMs: number): Attendance => {
    const canConfirm = confirmable(rec.guide, nowMs, policy);
    return {
      guide: rec.guide,
      version: rec.version,
      beneficiaryId: rec.beneficiaryId,
      tokenRequired: rec.tokenRequired,
      ...(rec.eligibility ? { eligibility: rec.eligibility } : {}),
      ...(rec.display ? { display: rec.display } : {}),
      canRequestToken: canConfirm && rec.tokenRequired,
      canConfirm,
    };
  };

  const load = async (guideId: string): Promise<StoredAttendance> => {
    const rec = await repoOp(() => guides.load(guideId));
    if (rec === undefined) throw new GuideNotFoundError(guideId);
    return rec;
  };

  /** Saves `next` over `rec` (compare-and-set on its version). */
  const write = async (rec: StoredAttendance, next: AttendanceRecord): Promise<StoredAttendance> => {
    const { version: _read, ...plain } = next as StoredAttendance;
    const result = await repoOp(() => guides.save(plain, rec.version));
    if (!result.saved) throw new GuideConflictError(rec.guide.id, rec.version);
    return { ...plain, version: result.version };
  };

  /** Revokes the guide's live code when the guide can no longer be confirmed. */
  const revokeIfDead = async (rec: StoredAttendance, nowMs: number): Promise<void> => {
    if (confirmable(rec.guide, nowMs, policy)) return;
    await tokens.revoke({ guideId: rec.guide.id, reason: `guide_${rec.guide.state}` });
  };

  /** Loads, applies one event, saves, and revokes a code the guide can no longer use. */
  const step = async (
    guideId: string,
    event: GuideEvent,
    check?: (rec: StoredAttendance) => void,
  ): Promise<Attendance> => {
    const rec = await load(guideId);
    check?.(rec);
    const nowMs = clock.now();
    const guide = transition(rec.guide, event, ctxOf(rec, nowMs));
    const saved = await write(rec, { ...rec, guide });
    await revokeIfDead(saved, nowMs);
    return view(saved, nowMs);
  };

  const open = async (raw: OpenAttendanceInput): Promise<Attendance> => {
    const input = parseInput(openSchema, raw, "open input");
    const guide = createGuide(input.guide as OpenAttendanceInput["guide"]);
    const record: AttendanceRecord = {
      guide,
      beneficiaryId: input.beneficiaryId,
      tokenRequired: guide.type !== "honorarios" && rollout(guide) === true,
      ...(input.display ? { display: input.display as AttendanceDisplay } : {}),
    };
    const result = await repoOp(() => guides.save(record, 0));
    if (!result.saved) throw new GuideConflictError(guide.id, 0);
    return view({ ...record, version: result.version }, clock.now());
  };

  const get = async (guideId: string): Promise<Attendance> => {
    const id = parseInput(idSchema, guideId, "guide id", "guideId");
    return view(await load(id), clock.now());
  };

  const recordEligibility = async (raw: RecordEligibilityInput): Promise<Attendance> => {
    const input = parseInput(eligibilitySchema, raw, "eligibility input");
    const rec = await load(input.guideId);
    if (!REVIEW_GUIDE_STATES.includes(rec.guide.state)) {
      throw new GuideTransitionError(rec.guide.state, "record_eligibility", "illegal_event");
    }
    const nowMs = clock.now();
    const saved = await write(rec, {
      ...rec,
      eligibility: {
        eligible: input.eligible,
        ...(input.reason === undefined ? {} : { reason: input.reason }),
        checkedAtMs: input.checkedAtMs ?? nowMs,
      },
    });
    return view(saved, nowMs);
  };

  const review = async (raw: ReviewInput): Promise<Attendance> => {
    const input = parseInput(
      z.object({
        guideId: idSchema,
        step: z.enum(["start_review", "request_justification", "request_documents"]),
      }),
      raw,
      "review input",
    );
    return step(input.guideId, { type: input.step });
  };

  const authorize = async (raw: AuthorizeInput): Promise<Attendance> => {
    const { guideId } = parseInput(refSchema, raw, "authorize input");
    const { guideId: _id, ...rest } = raw;
    return step(guideId, { type: "authorize", ...rest } as GuideEvent, (rec) => {
      if (!needsEligibility(rec.guide)) return;
      if (rec.eligibility === undefined) {
        throw new AttendanceRefusedError(guideId, rec.guide.state, "eligibility_required");
      }
      if (!rec.eligibility.eligible)
        throw new AttendanceRefusedError(guideId, rec.guide.state, "not_eligible");
    });
  };

  const deny = async (raw: DenyInput): Promise<Attendance> => {
    const { guideId } = parseInput(refSchema, raw, "deny input");
    return step(guideId, { type: "deny", glosas: raw.glosas });
  };

  const requestToken = async (raw: RequestTokenInput): Promise<RequestTokenResult> => {
    const { guideId } = parseInput(refSchema, raw, "token request");
    const rec = await load(guideId);
    const guide = rec.guide;
    if (raw.beneficiary?.id !== rec.beneficiaryId) {
      throw new AttendanceRefusedError(guideId, guide.state, "wrong_beneficiary");
    }
    if (!rec.tokenRequired) throw new AttendanceRefusedError(guideId, guide.state, "token_not_required");
    if (!confirmable(guide, clock.now(), policy)) {
      throw new AttendanceRefusedError(guideId, guide.state, "not_confirmable");
    }
    const issued = await tokens.issue({
      guide: { id: guide.id, providerId: guide.provider.code },
      beneficiary: raw.beneficiary,
      ...(raw.guardian === undefined ? {} : { guardian: raw.guardian }),
      ...(raw.contactId === undefined ? {} : { contactId: raw.contactId }),
      ...(raw.channel === undefined ? {} : { channel: raw.channel }),
      context: {
        guideRef: guide.id,
        ...(rec.display?.providerName === undefined ? {} : { providerName: rec.display.providerName }),
        ...(rec.display?.procedureSummary === undefined
          ? {}
          : { procedureSummary: rec.display.procedureSummary }),
      },
      notAfterMs: senhaEndMs(guide),
    });
    // A cancel, denial or expiry may have landed while the code was being issued: look again.
    const after = await load(guideId);
    const nowMs = clock.now();
    if (!confirmable(after.guide, nowMs, policy)) {
      await tokens.revoke({ guideId, reason: `guide_${after.guide.state}` });
      throw new AttendanceRefusedError(guideId, after.guide.state, "not_confirmable");
    }
    return { attendance: view(after, nowMs), issued };
  };

  const confirm = async (raw: ConfirmInput): Promise<ConfirmResult> => {
    const input = parseInput(
      z.object({
        guideId: idSchema,
        providerId: idSchema,
        code: z.string().max(64),
        mode: z.enum(["sent", "app"]).optional(),
      }),
      raw,
      "confirm input",
    );
    const rec = await load(input.guideId);
    // Refuse before verifying, so a guide that cannot be confirmed never spends the beneficiary's code.
    if (!confirmable(rec.guide, clock.now(), policy)) throw confirmRefusal(rec.guide);
    const target = { guideId: input.guideId, providerId: input.providerId, code: input.code };
    const result =
      input.mode === "app"
        ? await tokens.verifyAppCode({ ...target, beneficiaryId: rec.beneficiaryId })
        : await tokens.verify(target);
    if (!result.ok) return result;
    const nowMs = clock.now();
    const guide = transition(rec.guide, { type: "confirm", receipt: result.receipt }, ctxOf(rec, nowMs));
    const saved = await write(rec, { ...rec, guide });
    return { ok: true, attendance: view(saved, nowMs) };
  };

  const confirmWithoutToken = async (raw: ConfirmWithoutTokenInput): Promise<Attendance> => {
    const input = parseInput(providerRefSchema, raw, "confirm input");
    return step(
      input.guideId,
      raw.absence === undefined ? { type: "confirm" } : { type: "confirm", absence: raw.absence },
      (rec) => {
        if (rec.guide.provider.code !== input.providerId) {
          throw new AttendanceRefusedError(input.guideId, rec.guide.state, "wrong_provider");
        }
        if (rec.tokenRequired && raw.absence === undefined) {
          throw new AttendanceRefusedError(input.guideId, rec.guide.state, "token_required");
        }
      },
    );
  };

  const cancel = async (raw: GuideRef): Promise<Attendance> =>
    step(parseInput(refSchema, raw, "cancel input").guideId, { type: "cancel" });

  const expire = async (raw: GuideRef): Promise<Attendance> => {
    const { guideId } = parseInput(refSchema, raw, "expire input");
    const rec = await load(guideId);
    const nowMs = clock.now();
    const guide = expireIfDue(rec.guide, nowMs, policy ? { policy } : {});
    if (guide === rec.guide) return view(rec, nowMs);
    const saved = await write(rec, { ...rec, guide });
    await revokeIfDead(saved, nowMs);
    return view(saved, nowMs);
  };

  const bill = async (raw: BillInput): Promise<Attendance> => {
    const { guideId } = parseInput(refSchema, raw, "bill input");
    return step(guideId, { type: "bill", batchId: raw.batchId });
  };

  const returnVisit = async (raw: GuideRef): Promise<boolean> => {
    const { guideId } = parseInput(refSchema, raw, "guide reference");
    const rec = await load(guideId);
    const g = rec.guide;
    const others = await repoOp(() =>
      guides.list({ cardNumber: g.beneficiary.cardNumber, providerCode: g.provider.code }),
    );
    return isReturnVisit(
      g,
      others.map((a) => a.guide),
      {
        windowDays: policy?.returnWindowDays ?? 30,
        atMs: g.confirmation?.atMs ?? clock.now(),
      },
    );
  };

  return {
    open,
    get,
    recordEligibility,
    review,
    authorize,
    deny,
    requestToken,
    confirm,
    confirmWithoutToken,
    cancel,
    expireIfDue: expire,
    bill,
    isReturnVisit: returnVisit,
  };
}
