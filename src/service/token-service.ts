/**
 * The token service: issue a code for one guide, deliver it to the right person, verify it once, revoke it.
 *
 * @module
 */
import { z } from "zod";
import { CodeDeriver, CodeHasher } from "../_internal/codes.js";
import { constantTimeEqualString } from "../_internal/constant-time.js";
import { RandomPool, randomId } from "../_internal/ids.js";
import { MAKE_A_KEY, weakKeyProblem } from "../_internal/key-strength.js";
import type { Mutable } from "../_internal/mutable.js";
import { idProblem } from "../_internal/text.js";
import { ConfigError, HealthTokenError, InvalidArgumentError, StoreUnavailableError } from "../errors.js";
import { contextForChannel, type MessageContextPolicy } from "../messages/context.js";
import { issueCounters, issueRefusalError, takeIssue } from "../policy/rate-limit.js";
import { resolvePolicy, type TokenPolicy, type TokenPolicyInput } from "../policy/token-policy.js";
import { type Clock, type RandomSource, systemClock, systemRandom } from "../ports/clock.js";
import type { DeliveryReport } from "../ports/delivery-report.js";
import type { TokenEvent } from "../ports/events.js";
import type { Channel, TokenMessageContext } from "../ports/notifier.js";
import type { TokenStore } from "../ports/store.js";
import type { IssueStepInput } from "../ports/store-steps.js";
import {
  DATE_PATTERN,
  type FastIssueInput,
  fastIssueInput,
  fastPerson,
  isCalendarDate,
} from "./_issue-input.js";
import { makeReportRef, readReportRef } from "./_report-ref.js";
import { runIssueStep, type SteppingStore } from "./_steps.js";
import { type AppEnrollment, AppMode, type SecretsKeyOption, type VerifyAppCodeInput } from "./app-mode.js";
import {
  type ContactChoice,
  eligibleTargets,
  type NotifierOption,
  type PersonInput,
  planDelivery,
} from "./delivery.js";
import {
  type DeliveryJob,
  type DeliveryOptions,
  DeliveryRunner,
  type RecordedStart,
} from "./delivery-run.js";
import {
  applyDeliveryReport,
  type DeliveryReportResult,
  type DeliveryStatus,
  readDeliveryStatus,
} from "./delivery-status.js";
import {
  clearFailures,
  type LimitsReport,
  type ResetLockoutOptions,
  type ResetLockoutResult,
  readLimits,
} from "./limits.js";
import { type VerifyInput, type VerifyResult, verifyCode } from "./verification.js";

/**
 * A pepper: at least 32 random bytes, or a text of at least 43 characters such as the output of
 * `openssl rand -base64 32`. Clearly non-random keys (a zeroed buffer, a repeated character, a counting
 * sequence) are refused with `ConfigError`.
 */
export type Pepper = string | Uint8Array;

/** Options of {@link createTokenService}. */
export interface TokenServiceOptions {
  /** Where tokens, counters and events live (`new MemoryTokenStore()` for one process). */
  readonly store: TokenStore;
  /** One notifier for every channel, or one per channel (`{ sms, email, whatsapp, app }`). */
  readonly notifier: NotifierOption;
  /**
   * The secret key of the code hashes, at least 32 random bytes, kept outside the database. To rotate, pass
   * `[newPepper, oldPepper]` for one TTL: new codes use the first, codes issued before still verify.
   */
  readonly pepper: Pepper | readonly Pepper[];
  /** The clock (default: the system clock). */
  readonly clock?: Clock | undefined;
  /** The CSPRNG (default: `crypto.getRandomValues`). */
  readonly random?: RandomSource | undefined;
  /** The rules; every field optional, defaults in `DEFAULT_POLICY`. */
  readonly policy?: TokenPolicyInput | undefined;
  /**
   * The AES-256-GCM key(s) for app-mode secrets: 32 bytes, or `{ id, key }`; a list for rotation (the first
   * encrypts, every one decrypts records carrying its id). Required only for app mode.
   */
  readonly secretsKey?: SecretsKeyOption | undefined;
  /**
   * Called with every event after it was appended to the store. Errors it throws (or promises it rejects)
   * are caught and ignored: an observer can never break an issue or a verification.
   */
  readonly onEvent?: ((event: TokenEvent) => void | Promise<void>) | undefined;
  /**
   * Per channel, which fields of an issue's `context` reach the message (default
   * `DEFAULT_MESSAGE_CONTEXT`: everything in the app and e-mail, the provider's name on SMS and WhatsApp).
   */
  readonly messageContext?: MessageContextPolicy | undefined;
  /** Delivery deadlines and failed-receipt fallback (docs/delivery.md). */
  readonly delivery?: DeliveryOptions | undefined;
}

/** What {@link TokenService.issue} needs. */
export interface IssueInput {
  /** The guide the code confirms, and the only provider allowed to verify it. */
  readonly guide: { readonly id: string; readonly providerId: string };
  /** The beneficiary. */
  readonly beneficiary: PersonInput;
  /** A guardian (or the holder) to receive the code of a minor, or of a beneficiary without a contact. */
  readonly guardian?: PersonInput | undefined;
  /** The contact chosen by the attendant from {@link TokenService.listContacts}; tried first. */
  readonly contactId?: string | undefined;
  /** Only this channel. */
  readonly channel?: Channel | undefined;
  /** What the message may say about the attendance (filtered per channel by `messageContext`). */
  readonly context?: TokenMessageContext | undefined;
  /** The code expires no later than this (ms), such as the end of the guide's senha validity. */
  readonly notAfterMs?: number | undefined;
  /**
   * The whole delivery's budget in ms (every try, retry and fallback), at most 10 minutes; default
   * `delivery.deadlineMs` (15 s), or `delivery.backgroundDeadlineMs` (60 s) in background mode.
   */
  readonly deadlineMs?: number | undefined;
  /** Cancels the delivery (in background mode too): the try in flight is abandoned and the token revoked. */
  readonly signal?: AbortSignal | undefined;
  /**
   * Return once the token is saved (`status: "pending"`) and deliver after; follow it with
   * {@link TokenService.deliveryStatus} or the events.
   */
  readonly background?: boolean | undefined;
}

/** The result of {@link TokenService.issue} in background mode: saved, delivery under way. */
export interface PendingIssueResult {
  /** Always `pending`. */
  readonly status: "pending";
  /** The new token's id. */
  readonly tokenId: string;
  /** The guide. */
  readonly guideId: string;
  /** When the code expires (ms). */
  readonly expiresAtMs: number;
  /** The delivery run (in the events). */
  readonly deliveryId: string;
  /** When the run gives up at the latest (ms). */
  readonly deadlineAtMs: number;
}

/**
 * The result of {@link TokenService.resend}: the result of an issue, and whether the guide's live code was sent
 * again (`true`) or a new code was issued because there was none to re-create (`false`).
 *
 * @example
 * ```ts
 * const again = await tokens.resend({ guide, beneficiary }); // "I did not get the SMS"
 * if (again.resent) show("the same code was sent again"); // the late first SMS still works
 * ```
 */
export type ResendResult<R extends IssueResult | PendingIssueResult = IssueResult | PendingIssueResult> =
  R & {
    /** `true`: the same code (same token id and expiry) was delivered again; `false`: a new token was issued. */
    readonly resent: boolean;
  };

/** The result of {@link TokenService.issue}. It never holds the code. */
export interface IssueResult {
  /** The new token's id. */
  readonly tokenId: string;
  /** The guide. */
  readonly guideId: string;
  /** When the code expires (ms). */
  readonly expiresAtMs: number;
  /** The channel that delivered it. */
  readonly channel: Channel;
  /** Who received it. */
  readonly recipient: "beneficiary" | "guardian";
  /** The contact that received it. */
  readonly contactId: string;
  /** Its masked address. */
  readonly deliveredTo: string;
  /** Always `sent` (the notifier accepted it). */
  readonly status: "sent";
  /** The provider's message id, to match delivery reports and "I never got it" calls. */
  readonly providerMessageId?: string;
  /** The delivery run (in the events). */
  readonly deliveryId: string;
}

/** What {@link TokenService.revoke} needs. */
export interface RevokeInput {
  /** The guide whose active token is revoked. */
  readonly guideId: string;
  /** Why (recorded in the event): such as `cancelled` or `wrong_guide`. */
  readonly reason: string;
}

/** The result of {@link TokenService.revoke} and {@link TokenService.reportUnrequested}. */
export interface RevokeResult {
  /** Whether an active token was revoked. */
  readonly revoked: boolean;
  /** The revoked token's id. */
  readonly tokenId?: string;
}

/**
 * What {@link TokenService.reportUnrequested} takes: the guide and the beneficiary, or the `reportRef` of
 * the message (`TokenMessage.reportRef`); a reference that was not made by this service is refused with
 * `InvalidArgumentError`.
 */
export type ReportUnrequestedInput =
  | { readonly guideId: string; readonly beneficiaryId: string }
  | { readonly reportRef: string };

/** Paging of {@link TokenService.history}. */
export interface HistoryOptions {
  /** At most this many events (1–1000, default 50). */
  readonly limit?: number | undefined;
  /** Events older than this event id (the last id of the previous page). */
  readonly before?: string | undefined;
}

/**
 * The token service.
 *
 * @example
 * ```ts
 * const tokens = createTokenService({ store: new MemoryTokenStore(), notifier, pepper });
 * const issued = await tokens.issue({ guide: { id: "G-1", providerId: "PRV-1" }, beneficiary });
 * const result = await tokens.verify({ guideId: "G-1", providerId: "PRV-1", code: "492039" });
 * if (result.ok) console.log(result.receipt, issued.deliveredTo);
 * ```
 */
export interface TokenService {
  /** The resolved policy. */
  readonly policy: TokenPolicy;
  /**
   * The contacts the code may go to, masked, in preference order (for the attendant to choose from).
   *
   * @example
   * ```ts
   * const choices = tokens.listContacts(beneficiary, guardian);
   * // [{ id: "c1", channel: "sms", masked: "(43) 9****-0001", recipient: "beneficiary" }, …]
   * await tokens.issue({ guide: { id: "G-1", providerId: "PRV-1" }, beneficiary, guardian, contactId: choices[0]!.id });
   * ```
   */
  listContacts(beneficiary: PersonInput, guardian?: PersonInput): ContactChoice[];
  /**
   * Issues a code for a guide (superseding the previous one) and delivers it. The result holds no code.
   *
   * @example
   * ```ts
   * const issued = await tokens.issue({ guide: { id: "G-1", providerId: "PRV-1" }, beneficiary, channel: "sms" });
   * console.log(`sent by ${issued.channel} to ${issued.deliveredTo}`); // masked; the result holds no code
   * const pending = await tokens.issue({ guide: { id: "G-1", providerId: "PRV-1" }, beneficiary, background: true });
   * console.log(pending.status, pending.deliveryId); // "pending": follow it with deliveryStatus
   * ```
   */
  issue(input: IssueInput & { readonly background: true }): Promise<PendingIssueResult>;
  issue(input: IssueInput & { readonly background?: false | undefined }): Promise<IssueResult>;
  issue(input: IssueInput): Promise<IssueResult | PendingIssueResult>;
  /**
   * Sends the guide's live code again (Twilio Verify's resend): while the latest token is active and unexpired,
   * for the same beneficiary and provider, the SAME code is delivered again (same token id and expiry), counted
   * against the send limits and the resend cooldown like an issue. Otherwise (no token, consumed, revoked,
   * locked, expired, or another beneficiary) it issues a new code, as {@link TokenService.issue} does.
   * `issue` itself always makes a new code and supersedes the previous one.
   *
   * @example
   * ```ts
   * await tokens.issue({ guide, beneficiary }); // a new code
   * await tokens.resend({ guide, beneficiary }); // the same code again, at least 60 s later
   * ```
   */
  resend(input: IssueInput & { readonly background: true }): Promise<ResendResult<PendingIssueResult>>;
  resend(input: IssueInput & { readonly background?: false | undefined }): Promise<ResendResult<IssueResult>>;
  resend(input: IssueInput): Promise<ResendResult>;
  /**
   * What the attendant's screen shows about the guide's latest code: pending, sent, failed or unfinished.
   *
   * @example
   * ```ts
   * const status = await tokens.deliveryStatus("G-1");
   * if (status.state === "failed" || status.state === "unfinished") say("ask for another contact");
   * ```
   */
  deliveryStatus(guideId: string): Promise<DeliveryStatus>;
  /**
   * Records a provider's delivery report (from a parser of `health-token/receipts`); a `failed` one sends the
   * same code to the next fallback contact when it may. Throws `ReceiptRejectedError` (`replayed`,
   * `unknown_token`, `malformed`) and then changes nothing.
   *
   * @example
   * ```ts
   * const reports = parseTwilioStatusCallback({ url, rawBody, headers, authToken: process.env.TWILIO_AUTH_TOKEN! });
   * for (const report of reports) await tokens.applyDeliveryReport(report); // a failed SMS falls back to the next contact
   * ```
   */
  applyDeliveryReport(
    report: DeliveryReport,
    options?: { readonly guideId?: string | undefined },
  ): Promise<DeliveryReportResult>;
  /**
   * Verifies a sent code. Never throws on a wrong or malformed code.
   *
   * @example
   * ```ts
   * const result = await tokens.verify({ guideId: "G-1", providerId: "PRV-1", code: "492039" });
   * if (!result.ok) console.log(result.reason, result.attemptsLeft); // "mismatch" 4 — never thrown
   * ```
   */
  verify(input: VerifyInput): Promise<VerifyResult>;
  /**
   * Revokes the active token of a guide.
   *
   * @example
   * ```ts
   * const { revoked } = await tokens.revoke({ guideId: "G-1", reason: "guide cancelled" });
   * ```
   */
  revoke(input: RevokeInput): Promise<RevokeResult>;
  /**
   * The beneficiary reports a code they did not ask for: the token is revoked and a fraud event recorded.
   * Takes the guide and beneficiary, or the message's `reportRef` (resolved without any lookup).
   *
   * @example
   * ```ts
   * await tokens.reportUnrequested({ reportRef }); // the message's reportRef, from "I did not request this code"
   * await tokens.reportUnrequested({ guideId: "G-1", beneficiaryId: "BEN-1" });
   * ```
   */
  reportUnrequested(input: ReportUnrequestedInput): Promise<RevokeResult>;
  /**
   * The beneficiary's events, newest first, with masked contacts.
   *
   * @example
   * ```ts
   * const page = await tokens.history("BEN-1", { limit: 50 });
   * const older = await tokens.history("BEN-1", { limit: 50, before: page.at(-1)!.id });
   * ```
   */
  history(beneficiaryId: string, options?: HistoryOptions): Promise<TokenEvent[]>;
  /**
   * Enrolls the beneficiary's app (TOTP): the secret is returned once and stored only encrypted.
   *
   * @example
   * ```ts
   * const { otpauthUri } = await tokens.enrollApp({ id: "BEN-1" }); // show it once as a QR code
   * ```
   */
  enrollApp(beneficiary: Pick<PersonInput, "id">): Promise<AppEnrollment>;
  /**
   * Verifies a code generated by the beneficiary's app. Same result type and attempt rules as `verify`.
   *
   * @example
   * ```ts
   * const result = await tokens.verifyAppCode({ guideId: "G-1", providerId: "PRV-1", beneficiaryId: "BEN-1", code: "492039" });
   * ```
   */
  verifyAppCode(input: VerifyAppCodeInput): Promise<VerifyResult>;
  /**
   * Why and until when the next issue for a beneficiary (and, given a guide, for that guide) would be refused:
   * the failures against `maxFailuresPerBeneficiary`, the guide's cooldown and sends. Read-only.
   *
   * @example
   * ```ts
   * const limits = await tokens.limits("ben-1", "G-1");
   * if (limits.reason === "locked_out") say(`locked until ${new Date(limits.untilMs!).toISOString()}`);
   * ```
   */
  limits(beneficiaryId: string, guideId?: string): Promise<LimitsReport>;
  /**
   * Lifts a beneficiary's lockout (a family member's mistypes, say): the failures counter goes back to zero
   * and a `lockout.reset` event with the reason is recorded in their history. The guide's cooldown and sends
   * are left alone.
   *
   * @example
   * ```ts
   * await tokens.resetLockout("ben-1", { reason: "call_centre: relative mistyped" });
   * ```
   */
  resetLockout(beneficiaryId: string, options: ResetLockoutOptions): Promise<ResetLockoutResult>;
}

/** Internal state shared by the parts of the service. */
export interface ServiceContext {
  /** The store, with whichever intent-level steps it has. */
  readonly store: SteppingStore;
  readonly policy: TokenPolicy;
  readonly clock: Clock;
  readonly pool: RandomPool;
  /** The first hashes new codes; every one is accepted while rotating. */
  readonly hashers: readonly CodeHasher[];
  /** Appends an event (id and time added) and tells `onEvent`. */
  emit(event: Omit<TokenEvent, "id" | "atMs">, atMs: number): Promise<void>;
  /** Appends a whole event (its id and time already set) and tells `onEvent`. */
  append(event: TokenEvent): Promise<void>;
  /** Tells `onEvent` of events a store step appended. */
  tell(events: readonly TokenEvent[]): void;
}

function toStoreError(error: unknown): never {
  // Errors of the library (rate limits, lockouts raised while talking to the store) pass through.
  if (error instanceof HealthTokenError) throw error;
  throw new StoreUnavailableError("the token store failed", { cause: error });
}

/**
 * Runs a store operation; any failure (a rejection, or a throw before the promise exists) becomes
 * `StoreUnavailableError`. A plain function rather than an async one: on the hot path it adds one promise
 * reaction, not an async frame.
 */
export function storeOp<T>(op: () => Promise<T>): Promise<T> {
  try {
    return Promise.resolve(op()).catch(toStoreError);
  } catch (error) {
    return Promise.reject(error).catch(toStoreError);
  }
}

// ------------------------------------------------------------------ input schemas

/** An id or a short text (an address, a reason): 1 to `max` characters, well formed, no control character. */
const cleanText = (max: number) =>
  z.string().superRefine((value, ctx) => {
    const problem = idProblem(value, max);
    if (problem !== undefined) ctx.addIssue({ code: "custom", message: problem });
  });
const idSchema = cleanText(128);
const contactSchema = z.object({
  id: cleanText(64),
  channel: z.enum(["app", "sms", "whatsapp", "email"]),
  address: cleanText(320),
});
/** The zod schema of a beneficiary or guardian. */
export const personSchema = z.object({
  id: idSchema,
  birthDate: z
    .string()
    .regex(DATE_PATTERN, "expected YYYY-MM-DD")
    .refine((t) => isCalendarDate(t) && t >= "1900-01-01", "not a valid date"),
  contacts: z.array(contactSchema).max(20),
});
const issueSchema = z.object({
  guide: z.object({ id: idSchema, providerId: idSchema }),
  beneficiary: personSchema,
  guardian: personSchema.optional(),
  contactId: cleanText(64).optional(),
  channel: z.enum(["app", "sms", "whatsapp", "email"]).optional(),
  context: z
    .strictObject({
      guideRef: cleanText(64).optional(),
      providerName: cleanText(60).optional(),
      procedureSummary: cleanText(60).optional(),
    })
    .optional(),
  notAfterMs: z.int().min(0).optional(),
  deadlineMs: z.int().min(1).max(600_000).optional(),
  signal: z
    .custom<AbortSignal>(
      (v) =>
        typeof v === "object" &&
        v !== null &&
        typeof (v as AbortSignal).aborted === "boolean" &&
        typeof (v as AbortSignal).addEventListener === "function",
      "expected an AbortSignal",
    )
    .optional(),
  background: z.boolean().optional(),
});
const revokeSchema = z.object({ guideId: idSchema, reason: cleanText(64) });
const reportSchema = z.union([
  z.strictObject({ guideId: idSchema, beneficiaryId: idSchema }),
  z.strictObject({ reportRef: cleanText(600) }),
]);
const resetSchema = z.object({ reason: cleanText(64) });
const historySchema = z.object({
  limit: z.int().min(1).max(1000).optional(),
  before: cleanText(128).optional(),
});

/** Parses with zod; a failure becomes `InvalidArgumentError` listing every field (never the values). */
export function parseInput<T>(schema: z.ZodType<T>, input: unknown, what: string, prefix = ""): T {
  const parsed = schema.safeParse(input);
  if (parsed.success) return parsed.data;
  throw new InvalidArgumentError(
    `invalid ${what}`,
    parsed.error.issues.map((issue) => ({
      path: [prefix, ...issue.path.map(String)].filter((p) => p !== "").join("."),
      message: issue.message,
    })),
  );
}

let cachedDay = Number.NaN;
let cachedDate = "";
/** The local date (YYYY-MM-DD) of a time, cached per day: this runs on every issue. */
function localDate(nowMs: number, offsetMinutes: number): string {
  const local = nowMs + offsetMinutes * 60_000;
  const day = Math.floor(local / 86_400_000);
  if (day !== cachedDay) {
    cachedDate = new Date(local).toISOString().slice(0, 10);
    cachedDay = day;
  }
  return cachedDate;
}

function assertNotFuture(person: PersonInput, path: string, nowMs: number, offsetMinutes: number): void {
  const today = localDate(nowMs, offsetMinutes);
  if (person.birthDate > today) {
    throw new InvalidArgumentError("invalid birth date", [
      { path: `${path}.birthDate`, message: "birth date is in the future" },
    ]);
  }
}

function toPepperBytes(pepper: Pepper, index: number): Uint8Array {
  const bytes =
    typeof pepper === "string"
      ? new TextEncoder().encode(pepper)
      : pepper instanceof Uint8Array
        ? pepper
        : undefined;
  if (bytes === undefined) throw new ConfigError(`pepper ${index} must be a string or a Uint8Array`);
  if (bytes.length < 32) {
    throw new ConfigError(`pepper ${index} must be at least 32 bytes (got ${bytes.length}); ${MAKE_A_KEY}`);
  }
  const weak = weakKeyProblem(typeof pepper === "string" ? pepper : bytes);
  if (weak !== undefined) throw new ConfigError(`pepper ${index} is weak: ${weak}; ${MAKE_A_KEY}`);
  return bytes;
}

function assertStore(store: unknown): asserts store is TokenStore {
  const methods = [
    "save",
    "attempt",
    "revoke",
    "get",
    "increment",
    "decrement",
    "peek",
    "claimOnce",
    "appendEvent",
    "listEvents",
  ];
  if (typeof store !== "object" || store === null) throw new ConfigError("store is required");
  for (const m of methods) {
    if (typeof (store as Record<string, unknown>)[m] !== "function") {
      throw new ConfigError(`store is not a TokenStore (missing ${m})`);
    }
  }
}

// ------------------------------------------------------------------ the service

/**
 * Creates the token service.
 *
 * @example
 * ```ts
 * const tokens = createTokenService({ store: new MemoryTokenStore(), notifier, pepper: process.env.PEPPER! });
 * const issued = await tokens.issue({ guide: { id: "G-1", providerId: "P-9" }, beneficiary });
 * const result = await tokens.verify({ guideId: "G-1", providerId: "P-9", code: "123456" });
 * if (result.ok) confirm(result.receipt);
 * ```
 */
export function createTokenService(options: TokenServiceOptions): TokenService {
  if (typeof options !== "object" || options === null) throw new ConfigError("options are required");
  assertStore(options.store);
  const store = options.store;
  const notifiers = options.notifier;
  if (typeof notifiers !== "object" || notifiers === null) throw new ConfigError("notifier is required");
  const peppers = Array.isArray(options.pepper)
    ? (options.pepper as readonly Pepper[])
    : [options.pepper as Pepper];
  if (peppers.length === 0) throw new ConfigError("pepper is required");
  const pepperBytes = peppers.map((p, i) => toPepperBytes(p, i));
  const hashers = pepperBytes.map((p) => new CodeHasher(p));
  // Codes are derived from the pepper and the token, so a resend can re-create them (docs/security.md).
  const derivers = pepperBytes.map((p) => new CodeDeriver(p));
  const policy = resolvePolicy(options.policy);
  const clock = options.clock ?? systemClock;
  if (typeof clock.now !== "function") throw new ConfigError("clock must have now()");
  const random = options.random ?? systemRandom;
  if (typeof random !== "function") throw new ConfigError("random must be a function");
  const pool = new RandomPool(random);
  const onEvent = options.onEvent;

  const tell = (event: TokenEvent): void => {
    try {
      const pending = onEvent?.(event);
      if (pending && typeof pending.then === "function") pending.then(undefined, () => {});
    } catch {
      // An observer never breaks the flow.
    }
  };
  // Not async: the event is appended first, and the observer told once the store has it.
  const append = (event: TokenEvent): Promise<void> => {
    const appended = storeOp(() => store.appendEvent(event));
    return onEvent === undefined ? appended : appended.then(() => tell(event));
  };
  const emit = (partial: Omit<TokenEvent, "id" | "atMs">, atMs: number): Promise<void> =>
    append({ id: randomId(pool), atMs, ...partial });
  const tellAll = (events: readonly TokenEvent[]): void => {
    if (onEvent !== undefined) for (const event of events) tell(event);
  };
  const ctx: ServiceContext = { store, policy, clock, pool, hashers, emit, append, tell: tellAll };
  const app = new AppMode(ctx, options.secretsKey);
  const runner = new DeliveryRunner(ctx, notifiers, options.delivery);

  const listContacts = (beneficiary: PersonInput, guardian?: PersonInput): ContactChoice[] => {
    const b = fastPerson(beneficiary) ?? parseInput(personSchema, beneficiary, "beneficiary", "beneficiary");
    const g =
      guardian === undefined
        ? undefined
        : (fastPerson(guardian) ?? parseInput(personSchema, guardian, "guardian", "guardian"));
    return eligibleTargets(policy, notifiers, b, g, clock.now()).map((t) => ({
      id: t.contactId,
      channel: t.channel,
      masked: t.masked,
      recipient: t.recipient,
    }));
  };

  type ParsedIssue = FastIssueInput;
  const prepare = (raw: IssueInput) => {
    // The common well-formed shape is checked by hand; anything else goes through the schema (its errors).
    const fast: ParsedIssue | undefined = fastIssueInput(raw);
    const input = fast ?? parseInput(issueSchema, raw, "issue input");
    const nowMs = clock.now();
    assertNotFuture(input.beneficiary, "beneficiary", nowMs, policy.utcOffsetMinutes);
    if (input.guardian) assertNotFuture(input.guardian, "guardian", nowMs, policy.utcOffsetMinutes);
    const targets = planDelivery(policy, notifiers, input, nowMs);
    return { input, nowMs, targets };
  };
  // A guardian's history shows the codes they received for a dependent (recorded under them too).
  const recorder =
    (input: ParsedIssue) =>
    (event: TokenEvent): Promise<void> => {
      const guardianId = input.guardian?.id;
      const beneficiaryId = input.beneficiary.id;
      const appended = append(event);
      return event.recipient === "guardian" && guardianId !== undefined && guardianId !== beneficiaryId
        ? appended.then(() =>
            append({ ...event, id: randomId(pool), beneficiaryId: guardianId, dependentId: beneficiaryId }),
          )
        : appended;
    };

  const issue = async (raw: IssueInput): Promise<IssueResult | PendingIssueResult> => {
    const { input, nowMs, targets } = prepare(raw);
    return issuePrepared(input, nowMs, targets);
  };

  const issuePrepared = async (
    input: ParsedIssue,
    nowMs: number,
    targets: ReturnType<typeof planDelivery>,
  ): Promise<IssueResult | PendingIssueResult> => {
    const guideId = input.guide.id;
    const providerId = input.guide.providerId;
    const beneficiaryId = input.beneficiary.id;

    const ttlEndMs = nowMs + policy.ttlSeconds * 1000;
    const expiresAtMs = input.notAfterMs === undefined ? ttlEndMs : Math.min(ttlEndMs, input.notAfterMs);
    if (expiresAtMs <= nowMs) {
      throw new InvalidArgumentError("notAfterMs is not in the future", [
        { path: "notAfterMs", message: "must be after the current time" },
      ]);
    }
    const tokenId = randomId(pool);
    const code = derivers[0]!.code(tokenId, guideId, policy.digits);
    const first = targets[0]!;
    // Literals rather than spreads of a shared base: these run on every issue.
    const issued: TokenEvent = {
      id: randomId(pool),
      atMs: nowMs,
      beneficiaryId,
      guideId,
      providerId,
      type: "token.issued",
      tokenId,
      recipient: first.recipient,
    };
    const guardianId = input.guardian?.id;
    const copies: TokenEvent[] =
      first.recipient === "guardian" && guardianId !== undefined && guardianId !== beneficiaryId
        ? [{ ...issued, id: randomId(pool), beneficiaryId: guardianId, dependentId: beneficiaryId }]
        : [];
    // The delivery's first event goes in the same step: nothing is written between the save and the first try.
    const run = runOptions(input);
    const started = runner.startedEvent({ tokenId, guideId, providerId, beneficiaryId }, run, nowMs);
    const counters = issueCounters(policy, { guideId, beneficiaryId });
    const stepInput: Mutable<IssueStepInput> = {
      token: {
        tokenId,
        guideId,
        providerId,
        beneficiaryId,
        codeHash: hashers[0]!.hash(guideId, code),
        issuedAtMs: nowMs,
        expiresAtMs,
        maxAttempts: policy.maxAttempts,
        channel: first.channel,
      },
      failures: counters.failures,
      sends: counters.sends,
      revokedEvent: {
        id: randomId(pool),
        atMs: nowMs,
        beneficiaryId,
        guideId,
        providerId,
        type: "token.revoked",
        reason: "superseded",
      },
      issuedEvents: [issued, ...copies, started.event],
    };
    if (counters.cooldown !== undefined) stepInput.cooldown = counters.cooldown;
    const step = await storeOp(() => runIssueStep(store, stepInput));
    if (step.outcome !== "saved") throw issueRefusalError(step, nowMs);
    tellAll(step.events);
    return deliver(input, targets, { tokenId, code, expiresAtMs }, started);
  };

  const runOptions = (input: ParsedIssue) => {
    const background = input.background === true;
    return {
      mode: background ? "background" : "foreground",
      deadlineMs:
        input.deadlineMs ?? (background ? runner.options.backgroundDeadlineMs : runner.options.deadlineMs),
      signal: input.signal,
    } as const;
  };

  /** Starts the delivery of a saved token's code and answers as `issue` does. */
  const deliver = async (
    input: ParsedIssue,
    targets: ReturnType<typeof planDelivery>,
    token: { readonly tokenId: string; readonly code: string; readonly expiresAtMs: number },
    recorded?: RecordedStart,
  ): Promise<IssueResult | PendingIssueResult> => {
    const { tokenId, code, expiresAtMs } = token;
    const guideId = input.guide.id;
    const providerId = input.guide.providerId;
    const beneficiaryId = input.beneficiary.id;
    const record = recorder(input);
    const reportRef = makeReportRef(hashers[0]!, guideId, beneficiaryId);
    const job: DeliveryJob = {
      tokenId,
      guideId,
      providerId,
      beneficiaryId,
      code,
      expiresAtMs,
      targets,
      messageExtras: (channel) => {
        const context = contextForChannel(input.context, channel, options.messageContext);
        return context === undefined ? { reportRef } : { context, reportRef };
      },
      record,
    };
    const background = input.background === true;
    const started = await runner.start(job, runOptions(input), 0, recorded);
    const { deliveryId, deadlineAtMs } = started;
    if (background) return { status: "pending", tokenId, guideId, expiresAtMs, deliveryId, deadlineAtMs };
    const delivered = await started.done;
    return {
      status: "sent",
      tokenId,
      guideId,
      expiresAtMs,
      channel: delivered.target.channel,
      recipient: delivered.target.recipient,
      contactId: delivered.target.contactId,
      deliveredTo: delivered.target.masked,
      deliveryId,
      ...(delivered.providerMessageId === undefined
        ? {}
        : { providerMessageId: delivered.providerMessageId }),
    };
  };

  /** The code of a stored token, re-created with the pepper that made it; `undefined` when none did. */
  const recreate = (token: { tokenId: string; guideId: string; codeHash: string }): string | undefined => {
    for (let i = 0; i < derivers.length; i++) {
      const code = derivers[i]!.code(token.tokenId, token.guideId, policy.digits);
      if (constantTimeEqualString(hashers[i]!.hash(token.guideId, code), token.codeHash)) return code;
    }
    return undefined;
  };

  const resend = async (raw: IssueInput): Promise<ResendResult> => {
    const { input, nowMs, targets } = prepare(raw);
    const guideId = input.guide.id;
    const beneficiaryId = input.beneficiary.id;
    const latest = await storeOp(() => store.get(guideId));
    const live =
      latest !== undefined &&
      latest.status === "active" &&
      nowMs < latest.expiresAtMs &&
      latest.beneficiaryId === beneficiaryId &&
      latest.providerId === input.guide.providerId;
    const code = live ? recreate(latest) : undefined;
    if (!live || code === undefined)
      return { ...(await issuePrepared(input, nowMs, targets)), resent: false };
    await storeOp(() => takeIssue(store, policy, { guideId, beneficiaryId }, nowMs));
    const again = { tokenId: latest.tokenId, code, expiresAtMs: latest.expiresAtMs };
    return { ...(await deliver(input, targets, again)), resent: true };
  };

  /** Revokes the guide's active token, if any, and records why. */
  const revokeGuide = async (guideId: string, reason: string, nowMs: number): Promise<RevokeResult> => {
    const token = await storeOp(() => store.revoke(guideId, nowMs));
    if (!token) return { revoked: false };
    const { beneficiaryId, providerId, tokenId } = token;
    await emit(
      { type: "token.revoked", beneficiaryId, guideId: token.guideId, providerId, tokenId, reason },
      nowMs,
    );
    return { revoked: true, tokenId };
  };

  const revoke = async (raw: RevokeInput): Promise<RevokeResult> => {
    const input = parseInput(revokeSchema, raw, "revoke input");
    const nowMs = clock.now();
    return revokeGuide(input.guideId, input.reason, nowMs);
  };

  const reportUnrequested = async (raw: ReportUnrequestedInput): Promise<RevokeResult> => {
    const parsed = parseInput(reportSchema, raw, "report input");
    const input = "reportRef" in parsed ? readReportRef(hashers, parsed.reportRef) : parsed;
    if (input === undefined) {
      throw new InvalidArgumentError("invalid report reference", [
        { path: "reportRef", message: "not a reference made by this service" },
      ]);
    }
    const nowMs = clock.now();
    const latest = await storeOp(() => store.get(input.guideId));
    const owned = latest !== undefined && latest.beneficiaryId === input.beneficiaryId;
    const result: RevokeResult = owned
      ? await revokeGuide(input.guideId, "reported_unrequested", nowMs)
      : { revoked: false };
    await emit(
      {
        type: "token.reported_unrequested",
        beneficiaryId: input.beneficiaryId,
        guideId: input.guideId,
        ...(owned ? { providerId: latest.providerId, tokenId: latest.tokenId } : {}),
      },
      nowMs,
    );
    return result;
  };

  const history = async (beneficiaryId: string, options: HistoryOptions = {}): Promise<TokenEvent[]> => {
    const id = parseInput(idSchema, beneficiaryId, "beneficiary id", "beneficiaryId");
    const paging = parseInput(historySchema, options, "history options", "options");
    return storeOp(() =>
      store.listEvents(id, {
        limit: paging.limit ?? 50,
        ...(paging.before === undefined ? {} : { before: paging.before }),
      }),
    );
  };

  const limits = async (beneficiaryId: string, guideId?: string): Promise<LimitsReport> => {
    const id = parseInput(idSchema, beneficiaryId, "beneficiary id", "beneficiaryId");
    const guide = guideId === undefined ? undefined : parseInput(idSchema, guideId, "guide id", "guideId");
    const nowMs = clock.now();
    return storeOp(() => readLimits(store, policy, id, guide, nowMs));
  };

  const resetLockout = async (
    beneficiaryId: string,
    resetOptions: ResetLockoutOptions,
  ): Promise<ResetLockoutResult> => {
    const id = parseInput(idSchema, beneficiaryId, "beneficiary id", "beneficiaryId");
    const { reason } = parseInput(resetSchema, resetOptions, "reset options", "options");
    const nowMs = clock.now();
    const { before, cleared } = await storeOp(() => clearFailures(store, id, nowMs));
    await emit({ type: "lockout.reset", beneficiaryId: id, reason }, nowMs);
    return { wasLocked: before >= policy.maxFailuresPerBeneficiary, cleared };
  };

  return {
    policy,
    listContacts,
    issue: issue as TokenService["issue"],
    resend: resend as TokenService["resend"],
    deliveryStatus: async (guideId) =>
      readDeliveryStatus(ctx, runner, parseInput(idSchema, guideId, "guide id", "guideId")),
    applyDeliveryReport: (report, reportOptions) => applyDeliveryReport(ctx, runner, report, reportOptions),
    verify: (input) => verifyCode(ctx, input),
    revoke,
    reportUnrequested,
    history,
    enrollApp: (beneficiary) => app.enroll(beneficiary),
    verifyAppCode: (input) => app.verify(input),
    limits,
    resetLockout,
  };
}
