import {
  AttendanceRefusedError,
  GuideConflictError,
  GuideNotFoundError,
  GuideTransitionError,
  HealthTokenError,
  InvalidArgumentError,
  LockedOutError,
  RateLimitedError,
} from "../errors.js";
import { type HttpLocale, PROBLEM_KINDS, PROBLEM_TYPE_BASE, type ProblemSlug } from "./problems.js";

/** A failure the handlers turn into a problem response (internal; never leaves the entry). */
export class _HttpFailure extends Error {
  constructor(
    readonly slug: ProblemSlug,
    readonly detail?: string,
    readonly extensions: Readonly<Record<string, unknown>> = {},
    readonly headers: Readonly<Record<string, string>> = {},
  ) {
    super(detail ?? slug);
  }
}

const stripPrefix = (message: string) => message.replace(/^\[health-token\] (\[[^\]]+\] )?/, "");

/** Maps an error of the library (or of the plumbing) to a failure; anything else is `internal`. */
export function _toFailure(error: unknown): _HttpFailure {
  if (error instanceof _HttpFailure) return error;
  if (!(error instanceof HealthTokenError)) return new _HttpFailure("internal");
  const detail = stripPrefix(error.message);
  if (error instanceof InvalidArgumentError)
    return new _HttpFailure("invalid-request", detail, { issues: error.issues });
  if (error instanceof GuideNotFoundError) return new _HttpFailure("not-found", "guide not found");
  if (error instanceof GuideConflictError) return new _HttpFailure("guide-conflict", detail);
  if (error instanceof GuideTransitionError)
    return new _HttpFailure("guide-transition", detail, { state: error.state, reason: error.reason });
  if (error instanceof AttendanceRefusedError)
    return new _HttpFailure("attendance-refused", detail, { state: error.state, reason: error.reason });
  if (error instanceof RateLimitedError || error instanceof LockedOutError) {
    const seconds = error.retryAfterSeconds;
    return new _HttpFailure(
      error instanceof RateLimitedError ? "rate-limited" : "locked-out",
      detail,
      { retryAfterSeconds: seconds },
      { "retry-after": String(seconds) },
    );
  }
  const bySlug: Partial<Record<string, ProblemSlug>> = {
    RECIPIENT_UNAVAILABLE: "recipient-unavailable",
    DELIVERY_FAILED: "delivery-failed",
    STORE_UNAVAILABLE: "store-unavailable",
  };
  const slug = bySlug[error.code];
  return slug ? new _HttpFailure(slug, detail) : new _HttpFailure("internal");
}

/** The problem+json response of a failure, titled in `locale`. */
export function _problemResponse(failure: _HttpFailure, locale: HttpLocale): Response {
  const kind = PROBLEM_KINDS[failure.slug];
  const body = {
    ...failure.extensions,
    type: PROBLEM_TYPE_BASE + failure.slug,
    title: kind.title[locale],
    status: kind.status,
    ...(failure.detail === undefined ? {} : { detail: failure.detail }),
  };
  return new Response(JSON.stringify(body), {
    status: kind.status,
    headers: {
      "content-type": "application/problem+json; charset=utf-8",
      "content-language": locale,
      "cache-control": "no-store",
      ...failure.headers,
    },
  });
}

/** A JSON response. */
export function _json(body: unknown, status = 200): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { "content-type": "application/json; charset=utf-8", "cache-control": "no-store" },
  });
}
