/**
 * The error classes of health-token. Every error the library throws is a {@link HealthTokenError} with a
 * literal, stable `code`; match on it with {@link isHealthTokenError} (`isHealthTokenError(e, "RATE_LIMITED")`),
 * which works across the ESM and CommonJS builds where `instanceof` does not, and never on the message.
 *
 * Verification never throws on a wrong code: it returns a result. Errors are for misuse (bad arguments or
 * configuration), refused operations (rate limits, lockouts, illegal guide transitions) and failures of the
 * backends the library talks to (stores, notifiers).
 *
 * @module
 */

/** The stable codes carried by {@link HealthTokenError.code}. */
export type HealthTokenErrorCode =
  | "INVALID_ARGUMENT"
  | "CONFIG"
  | "RATE_LIMITED"
  | "LOCKED_OUT"
  | "RECIPIENT_UNAVAILABLE"
  | "DELIVERY_FAILED"
  | "STORE_UNAVAILABLE"
  | "GUIDE_TRANSITION"
  | "GUIDE_CONFLICT"
  | "GUIDE_NOT_FOUND"
  | "ATTENDANCE_REFUSED"
  | "RECEIPT_REJECTED"
  | "NOTHING_SENT";

/**
 * The brand every {@link HealthTokenError} carries, from the global symbol registry: the same symbol in the ESM
 * and the CommonJS build, in every realm.
 */
const BRAND: unique symbol = Symbol.for("health-token.error") as never;

/** The error class of each {@link HealthTokenErrorCode}, for {@link isHealthTokenError}'s narrowing. */
export interface HealthTokenErrorByCode {
  readonly INVALID_ARGUMENT: InvalidArgumentError;
  readonly CONFIG: ConfigError;
  readonly RATE_LIMITED: RateLimitedError;
  readonly LOCKED_OUT: LockedOutError;
  readonly RECIPIENT_UNAVAILABLE: RecipientUnavailableError;
  readonly DELIVERY_FAILED: DeliveryFailedError;
  readonly STORE_UNAVAILABLE: StoreUnavailableError;
  readonly GUIDE_TRANSITION: GuideTransitionError;
  readonly GUIDE_CONFLICT: GuideConflictError;
  readonly GUIDE_NOT_FOUND: GuideNotFoundError;
  readonly ATTENDANCE_REFUSED: AttendanceRefusedError;
  readonly RECEIPT_REJECTED: ReceiptRejectedError;
  readonly NOTHING_SENT: NothingSentError;
}

/**
 * Whether `error` is a {@link HealthTokenError} (of `code`, when given), from any copy of the library.
 * `instanceof` fails when an app loads both builds (ESM `import` and CommonJS `require`: the dual-package
 * hazard) or several copies; this checks a brand from `Symbol.for` instead. Given a code, it narrows to that
 * code's class, so its fields (`retryAfterSeconds`, `issues`, `reason`…) are typed.
 *
 * @param error - anything caught
 * @example
 * ```ts
 * try {
 *   await tokens.issue(input);
 * } catch (error) {
 *   if (isHealthTokenError(error, "RATE_LIMITED")) res.status(429).set("Retry-After", `${error.retryAfterSeconds}`);
 *   else if (isHealthTokenError(error)) res.status(400).json({ code: error.code });
 *   else throw error;
 * }
 * ```
 */
export function isHealthTokenError(error: unknown): error is HealthTokenError;
/**
 * Whether `error` is a {@link HealthTokenError} with this `code`, from any copy of the library; narrows to the
 * code's class ({@link HealthTokenErrorByCode}).
 *
 * @param error - anything caught
 * @param code - the code the error must carry
 * @example
 * ```ts
 * if (isHealthTokenError(error, "LOCKED_OUT")) say(`try again in ${error.retryAfterSeconds} s`);
 * ```
 */
export function isHealthTokenError<C extends HealthTokenErrorCode>(
  error: unknown,
  code: C,
): error is HealthTokenErrorByCode[C];
export function isHealthTokenError(error: unknown, code?: unknown): boolean {
  return (
    typeof error === "object" &&
    error !== null &&
    (error as { [BRAND]?: unknown })[BRAND] === true &&
    typeof (error as { code?: unknown }).code === "string" &&
    (code === undefined || (error as { code: string }).code === code)
  );
}

/**
 * The base class of every error thrown by health-token. Check it with {@link isHealthTokenError} when the
 * library may be loaded twice (ESM and CommonJS).
 *
 * @example
 * ```ts
 * try {
 *   hotp(new Uint8Array(0), 0);
 * } catch (error) {
 *   if (isHealthTokenError(error, "INVALID_ARGUMENT")) {
 *     // bad input from the caller
 *   }
 * }
 * ```
 */
export class HealthTokenError<C extends HealthTokenErrorCode = HealthTokenErrorCode> extends Error {
  /** A stable, machine-readable code. */
  readonly code: C;

  /**
   * @param code - the stable code of this error
   * @param message - a human-readable message; `[health-token]` (and the scope, if any) is prefixed
   * @param options - `cause`: the underlying error; `scope`: a component name such as `redis`
   */
  constructor(code: C, message: string, options?: { cause?: unknown; scope?: string | undefined }) {
    const prefix = options?.scope ? `[health-token] [${options.scope}] ` : "[health-token] ";
    super(prefix + message, options && "cause" in options ? { cause: options.cause } : undefined);
    this.code = code;
    this.name = new.target.name;
    Object.defineProperty(this, BRAND, { value: true });
  }
}

/** One offending field of an {@link InvalidArgumentError}. */
export interface ArgumentIssue {
  /** Dotted path of the field, such as `beneficiary.birthDate` (empty for the argument itself). */
  readonly path: string;
  /** What is wrong with it. */
  readonly message: string;
}

/**
 * An argument was invalid: a bad secret, an out-of-range option, an input that failed validation.
 * Nothing was changed. `issues` lists every offending field.
 *
 * @example
 * ```ts
 * try { base32Decode("not base32!"); }
 * catch (e) { if (isHealthTokenError(e, "INVALID_ARGUMENT")) console.log(e.issues); }
 * ```
 */
export class InvalidArgumentError extends HealthTokenError<"INVALID_ARGUMENT"> {
  /** Every offending field, in input order. */
  readonly issues: readonly ArgumentIssue[];

  /**
   * @param message - what was wrong
   * @param issues - the offending fields (defaults to one issue with an empty path and the message)
   */
  constructor(
    message: string,
    issues?: readonly ArgumentIssue[],
    options?: { cause?: unknown; scope?: string | undefined },
  ) {
    const list = issues && issues.length > 0 ? issues : [{ path: "", message }];
    super("INVALID_ARGUMENT", message, options);
    this.issues = list;
  }
}

/**
 * The library was configured wrongly (a pepper shorter than 32 bytes, an invalid policy, a missing key).
 *
 * @example
 * ```ts
 * createTokenService({ store, notifier, pepper: "short" }); // throws ConfigError
 * ```
 */
export class ConfigError extends HealthTokenError<"CONFIG"> {
  /** @param message - what is wrong with the configuration */
  constructor(message: string, options?: { cause?: unknown; scope?: string | undefined }) {
    super("CONFIG", message, options);
  }
}

/**
 * A send was refused by a rate limit (resend cooldown, sends per guide). Retry after `retryAfterSeconds`.
 *
 * @example
 * ```ts
 * catch (e) { if (isHealthTokenError(e, "RATE_LIMITED")) res.setHeader("Retry-After", e.retryAfterSeconds); }
 * ```
 */
export class RateLimitedError extends HealthTokenError<"RATE_LIMITED"> {
  /** Whole seconds until the operation may succeed (at least 1). */
  readonly retryAfterSeconds: number;
  /** Which limit refused it, such as `cooldown` or `sends_per_guide`. */
  readonly limit: string;

  /**
   * @param limit - the name of the limit that refused the operation
   * @param retryAfterSeconds - whole seconds until a retry may succeed
   */
  constructor(
    limit: string,
    retryAfterSeconds: number,
    options?: { cause?: unknown; scope?: string | undefined },
  ) {
    super("RATE_LIMITED", `rate limited by ${limit}; retry after ${retryAfterSeconds} s`, options);
    this.limit = limit;
    this.retryAfterSeconds = retryAfterSeconds;
  }
}

/**
 * A beneficiary failed too many verifications across tokens; issuing is refused until the window passes.
 *
 * @example
 * ```ts
 * catch (e) { if (isHealthTokenError(e, "LOCKED_OUT")) console.log(e.retryAfterSeconds); }
 * ```
 */
export class LockedOutError extends HealthTokenError<"LOCKED_OUT"> {
  /** Whole seconds until issuing may succeed again. */
  readonly retryAfterSeconds: number;

  /** @param retryAfterSeconds - whole seconds until the lockout window passes */
  constructor(retryAfterSeconds: number, options?: { cause?: unknown; scope?: string | undefined }) {
    super("LOCKED_OUT", `too many failed attempts; retry after ${retryAfterSeconds} s`, options);
    this.retryAfterSeconds = retryAfterSeconds;
  }
}

/**
 * Nobody can receive the token: the beneficiary is a minor or has no contact on the channel, and no guardian
 * with a suitable contact was given.
 *
 * @example
 * ```ts
 * catch (e) { if (isHealthTokenError(e, "RECIPIENT_UNAVAILABLE")) askForGuardian(); }
 * ```
 */
export class RecipientUnavailableError extends HealthTokenError<"RECIPIENT_UNAVAILABLE"> {
  /** @param message - why no recipient could be chosen */
  constructor(message: string, options?: { cause?: unknown; scope?: string | undefined }) {
    super("RECIPIENT_UNAVAILABLE", message, options);
  }
}

/**
 * A notifier could not deliver a message. `cause` holds the provider's error; `providerCode` and
 * `retryable` describe it when known. Never contains the access token or the code.
 *
 * @example
 * ```ts
 * catch (e) { if (isHealthTokenError(e, "DELIVERY_FAILED")) log.warn(e.providerCode); }
 * ```
 */
export class DeliveryFailedError extends HealthTokenError<"DELIVERY_FAILED"> {
  /** The provider's own error code, when it gave one. */
  readonly providerCode: string | undefined;
  /** Whether retrying the same request later might succeed. */
  readonly retryable: boolean;

  /**
   * @param message - what failed (no secrets, no personal data)
   * @param options - `cause`, `scope`, `providerCode`, `retryable`
   */
  constructor(
    message: string,
    options?: {
      cause?: unknown;
      scope?: string | undefined;
      providerCode?: string | undefined;
      retryable?: boolean | undefined;
    },
  ) {
    super("DELIVERY_FAILED", message, options);
    this.providerCode = options?.providerCode;
    this.retryable = options?.retryable ?? false;
  }
}

/**
 * A store's backend failed (connection lost, timeout, script error). Verification fails closed: it never
 * reports `ok` when the store could not confirm the consumption.
 *
 * @example
 * ```ts
 * catch (e) { if (isHealthTokenError(e, "STORE_UNAVAILABLE")) res.status(503); }
 * ```
 */
export class StoreUnavailableError extends HealthTokenError<"STORE_UNAVAILABLE"> {
  /** @param message - what failed */
  constructor(message: string, options?: { cause?: unknown; scope?: string | undefined }) {
    super("STORE_UNAVAILABLE", message, options);
  }
}

/**
 * A guide cannot take this event in its current state, or a guard refused it.
 *
 * @example
 * ```ts
 * catch (e) { if (isHealthTokenError(e, "GUIDE_TRANSITION")) console.log(e.state, e.event, e.reason); }
 * ```
 */
export class GuideTransitionError extends HealthTokenError<"GUIDE_TRANSITION"> {
  /** The state the guide was in. */
  readonly state: string;
  /** The event that was refused. */
  readonly event: string;
  /** Why, in a few words (`illegal_event`, `senha_expired`, `receipt_mismatch`, …). */
  readonly reason: string;

  /**
   * @param state - the guide's state
   * @param event - the refused event type
   * @param reason - a short machine-readable reason
   * @param detail - an optional human-readable detail
   */
  constructor(state: string, event: string, reason: string, detail?: string) {
    super(
      "GUIDE_TRANSITION",
      `cannot ${event} a guide in state ${state}: ${reason}${detail ? ` (${detail})` : ""}`,
    );
    this.state = state;
    this.event = event;
    this.reason = reason;
  }
}

/**
 * Another step saved the guide first (optimistic concurrency): nothing was changed by this call. Load the
 * guide again to see its current state; two attendants never both confirm or both bill one guide.
 *
 * @example
 * ```ts
 * catch (e) { if (isHealthTokenError(e, "GUIDE_CONFLICT")) return desk.get(e.guideId); }
 * ```
 */
export class GuideConflictError extends HealthTokenError<"GUIDE_CONFLICT"> {
  /** The guide. */
  readonly guideId: string;
  /** The version this call read and tried to replace. */
  readonly expectedVersion: number;

  /**
   * @param guideId - the guide
   * @param expectedVersion - the version the caller read
   */
  constructor(guideId: string, expectedVersion: number) {
    super("GUIDE_CONFLICT", `guide ${guideId} changed since version ${expectedVersion}`, { scope: "desk" });
    this.guideId = guideId;
    this.expectedVersion = expectedVersion;
  }
}

/**
 * The desk has no guide with this id.
 *
 * @example
 * ```ts
 * catch (e) { if (isHealthTokenError(e, "GUIDE_NOT_FOUND")) res.status(404); }
 * ```
 */
export class GuideNotFoundError extends HealthTokenError<"GUIDE_NOT_FOUND"> {
  /** The guide id that was asked for. */
  readonly guideId: string;

  /** @param guideId - the guide id */
  constructor(guideId: string) {
    super("GUIDE_NOT_FOUND", `no guide ${guideId}`, { scope: "desk" });
    this.guideId = guideId;
  }
}

/** Why the desk refused a step that the guide machine alone would not refuse. */
export type AttendanceRefusal =
  | "not_confirmable"
  | "token_not_required"
  | "token_required"
  | "eligibility_required"
  | "not_eligible"
  | "wrong_beneficiary"
  | "wrong_provider";

/**
 * The desk refused a step by its own rules: a code for a guide that cannot be confirmed now
 * (`not_confirmable`) or needs none (`token_not_required`), a confirmation without proof where a token is
 * required (`token_required`), an authorization without a positive eligibility check where one is required
 * (`eligibility_required`, `not_eligible`), another beneficiary or provider than the guide's. Nothing changed.
 *
 * @example
 * ```ts
 * catch (e) { if (isHealthTokenError(e, "ATTENDANCE_REFUSED") && e.reason === "not_confirmable") showState(); }
 * ```
 */
export class AttendanceRefusedError extends HealthTokenError<"ATTENDANCE_REFUSED"> {
  /** The guide. */
  readonly guideId: string;
  /** Its state. */
  readonly state: string;
  /** Why. */
  readonly reason: AttendanceRefusal;

  /**
   * @param guideId - the guide
   * @param state - its state
   * @param reason - why the step was refused
   */
  constructor(guideId: string, state: string, reason: AttendanceRefusal) {
    super("ATTENDANCE_REFUSED", `guide ${guideId} (${state}): ${reason}`, { scope: "desk" });
    this.guideId = guideId;
    this.state = state;
    this.reason = reason;
  }
}

/** Why a delivery-receipt callback was refused. */
export type ReceiptRejectReason =
  | "unsigned"
  | "forged"
  | "malformed"
  | "stale"
  | "replayed"
  | "unknown_token";

/**
 * A provider's status callback (delivery receipt) was refused: unsigned, forged, malformed, too old, already
 * processed, or about no token we know. Nothing was changed. Answer `replayed` with 200 (the provider stops
 * retrying) and the others with 4xx.
 *
 * @example
 * ```ts
 * catch (e) {
 *   if (isHealthTokenError(e, "RECEIPT_REJECTED")) res.status(e.reason === "replayed" ? 200 : 401).end();
 * }
 * ```
 */
export class ReceiptRejectedError extends HealthTokenError<"RECEIPT_REJECTED"> {
  /** Why it was refused. */
  readonly reason: ReceiptRejectReason;

  /**
   * @param reason - why the callback was refused
   * @param message - a detail (never the body, a phone number or a secret)
   */
  constructor(
    reason: ReceiptRejectReason,
    message: string,
    options?: { cause?: unknown; scope?: string | undefined },
  ) {
    super("RECEIPT_REJECTED", `${reason}: ${message}`, options);
    this.reason = reason;
  }
}

/**
 * A test fake was asked for a message it never sent (`OutboxNotifier.lastCodeFor` for a beneficiary or guide
 * that received nothing): the test fails with this rather than with a `TypeError` on `undefined`.
 *
 * @example
 * ```ts
 * expect(() => outbox.lastCodeFor("ben-without-codes")).toThrow(NothingSentError);
 * ```
 */
export class NothingSentError extends HealthTokenError<"NOTHING_SENT"> {
  /** @param message - what was asked for (ids only, never a contact) */
  constructor(message: string) {
    super("NOTHING_SENT", message, { scope: "testing" });
  }
}
