/**
 * The small HTTP client the HTTP notifiers share (internal, never exported from an entry).
 *
 * Over the platform `fetch` (injectable): a total budget per send (default {@link HTTP_DEFAULTS}: 8 s, every
 * attempt, backoff and `Retry-After` wait included, so a gateway that never answers costs an attendant seconds,
 * not half a minute); a timeout per attempt by `AbortSignal`, combined with the caller's signal (the token
 * service's delivery deadline), which also cuts a backoff wait short; retries with exponential
 * backoff and full jitter on 429, 5xx, timeouts and network errors only (a provider classifier may mark one of
 * its own rate-limit codes retryable even on a 400, as Meta's Graph API does); `Retry-After` honoured, in
 * seconds or as an HTTP date, and a wait longer than `maxRetryAfterMs` ends the retries instead of stalling a
 * delivery whose code expires in minutes. Every failure becomes a `DeliveryFailedError` whose `cause` is a
 * {@link ProviderError} with the provider's code and message, with every secret (access tokens, passwords,
 * the code, the recipient) replaced by `[redacted]`.
 *
 * @module
 */
import { DeliveryFailedError } from "../errors.js";
import { systemClock, systemRandom } from "../ports/clock.js";

/** A fetch-compatible function (the platform `fetch`, undici's, or a test double). */
export type FetchLike = (url: string, init: RequestInit) => Promise<Response>;

/** One HTTP request a notifier wants sent. */
export interface HttpRequest {
  /** Absolute URL. */
  readonly url: string;
  /** HTTP method. */
  readonly method: string;
  /** Request headers (credentials included; they never reach an error). */
  readonly headers: Readonly<Record<string, string>>;
  /** Request body, already encoded. */
  readonly body?: string;
}

/** What a provider-specific parser found in an error answer. */
export interface ProviderErrorInfo {
  /** The provider's error code (`20429`, `131056`, `VALIDATION_ERROR`). */
  readonly code?: string | undefined;
  /** The provider's error message (redacted before it is stored). */
  readonly message?: string | undefined;
  /** Overrides the status-based decision (429/5xx retryable, other 4xx not). */
  readonly retryable?: boolean | undefined;
}

/**
 * The defaults of every HTTP notifier: at most 8 s per send in all (3 attempts of at most 3 s each, backoff
 * 250 ms doubling up to 1 s, a `Retry-After` honoured only when it fits the budget). docs/delivery.md weighs
 * them against an attendant's wait.
 *
 * @example
 * ```ts
 * new WhatsAppNotifier({ ...options, budgetMs: HTTP_DEFAULTS.budgetMs * 2 }); // a slower gateway
 * ```
 */
export const HTTP_DEFAULTS = Object.freeze({
  maxAttempts: 3,
  baseDelayMs: 250,
  maxDelayMs: 1_000,
  maxRetryAfterMs: 5_000,
  timeoutMs: 3_000,
  budgetMs: 8_000,
});

/** Retry tuning shared by every HTTP notifier. */
export interface HttpRetryOptions {
  /** Attempts in all, the first included (default 3; 1 disables retries). */
  readonly maxAttempts?: number | undefined;
  /** First backoff ceiling in ms (default 250); attempt n waits a random time in [0, base·2ⁿ⁻¹]. */
  readonly baseDelayMs?: number | undefined;
  /** Backoff ceiling in ms (default 1,000). */
  readonly maxDelayMs?: number | undefined;
  /** The longest `Retry-After` honoured, in ms (default 5,000); a longer one ends the retries. */
  readonly maxRetryAfterMs?: number | undefined;
  /** Timeout of each attempt in ms, response body included (default 3,000). */
  readonly timeoutMs?: number | undefined;
  /**
   * The whole send's budget in ms, every attempt, backoff and `Retry-After` wait included (default 8,000): no
   * attempt starts or waits past it, and the last attempt's timeout is cut to what is left.
   */
  readonly budgetMs?: number | undefined;
}

/** Options of {@link sendHttp}. */
export interface HttpClientOptions extends HttpRetryOptions {
  /** Component name for error messages (`whatsapp`, `sms:twilio`, `webhook`). */
  readonly scope: string;
  /** The fetch to use (default: the platform's `fetch`). */
  readonly fetch?: FetchLike | undefined;
  /** Waits `ms` milliseconds (default: `setTimeout`). For tests. */
  readonly sleep?: ((ms: number) => Promise<void>) | undefined;
  /** A uniform random number in [0, 1) for the jitter (default: from `crypto.getRandomValues`). */
  readonly random?: (() => number) | undefined;
  /** The current time in ms, to read an HTTP-date `Retry-After` (default: `Date.now`). */
  readonly now?: (() => number) | undefined;
  /** Reads the provider's code and message out of an error answer. */
  readonly parseError?: ((status: number, body: unknown) => ProviderErrorInfo | undefined) | undefined;
  /** Aborts the send (attempt in flight and backoff wait): the token service's deadline, or the caller's. */
  readonly signal?: AbortSignal | undefined;
}

/** A successful answer. */
export interface HttpResult {
  /** HTTP status (2xx). */
  readonly status: number;
  /** The body parsed as JSON, or the raw text when it is not JSON (`undefined` when empty). */
  readonly body: unknown;
  /** Attempts it took. */
  readonly attempts: number;
}

/**
 * The `cause` of every `DeliveryFailedError` an HTTP notifier throws: what the provider said, redacted.
 *
 * @example
 * ```ts
 * try {
 *   await whatsapp.send(message);
 * } catch (error) {
 *   const cause = (error as DeliveryFailedError).cause;
 *   if (cause instanceof ProviderError && cause.kind === "http") console.log(cause.status, cause.providerCode);
 * }
 * ```
 */
export class ProviderError extends Error {
  /**
   * `http`: the provider answered with an error status; `timeout`; `network`: no answer at all; `aborted`: the
   * caller's signal (a delivery deadline) stopped it.
   */
  readonly kind: "http" | "timeout" | "network" | "aborted";
  /** The HTTP status, for `http`. */
  readonly status: number | undefined;
  /** The provider's own error code, when it gave one. */
  readonly providerCode: string | undefined;
  /** The provider's error message (or the network error's), redacted. */
  readonly providerMessage: string | undefined;
  /** Attempts made. */
  readonly attempts: number;

  constructor(fields: {
    kind: ProviderError["kind"];
    status?: number | undefined;
    providerCode?: string | undefined;
    providerMessage?: string | undefined;
    attempts: number;
  }) {
    const parts = [
      fields.kind === "http" ? `HTTP ${fields.status}` : fields.kind,
      fields.providerCode !== undefined ? `code ${fields.providerCode}` : undefined,
      fields.providerMessage,
    ].filter((p) => p !== undefined && p !== "");
    super(parts.join(": "));
    this.name = "ProviderError";
    this.kind = fields.kind;
    this.status = fields.status;
    this.providerCode = fields.providerCode;
    this.providerMessage = fields.providerMessage;
    this.attempts = fields.attempts;
  }
}

const REDACTED = "[redacted]";

/** A run of digits with the separators people and gateways put between them: `(43) 99999-0001`, `123 456`. */
const DIGIT_RUN = /\d(?:[\s().+\-/]*\d)*/g;
/** A secret made of digits and separators only: a phone number or a code. */
const DIGITS_ONLY = /^[\d\s().+\-/]+$/;
/** Digits a run must share with a phone or a code before it is redacted as a fragment of it. */
const MIN_FRAGMENT_DIGITS = 8;

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/**
 * Removes every form of each secret from a provider's text:
 * - the secret itself and its URL-encoded form, in any letter case (an e-mail echoed in lower case);
 * - for a secret of digits (a phone number, a code): every run of digits and separators that, once the
 *   separators are removed, holds 8 consecutive digits of it, or all of a shorter one (`123 456`,
 *   `+55 (43) 99999-0001`, `43999990001` without the country code, `99999-0001 (43)` reordered).
 * Secrets shorter than 4 characters are ignored (they would redact ordinary text). Over-redaction is the safe
 * side: a run that merely contains a code's digits is redacted too.
 */
export function redact(text: string, secrets: readonly string[]): string {
  const forms = new Set<string>();
  const digitSecrets: string[] = [];
  for (const secret of secrets) {
    if (typeof secret !== "string" || secret.length < 4) continue;
    forms.add(secret);
    forms.add(encodeURIComponent(secret));
    const digits = secret.replace(/\D/g, "");
    if (DIGITS_ONLY.test(secret) && digits.length >= 4) digitSecrets.push(digits);
  }
  let out = text;
  // Longest first, so that a secret containing another is replaced whole.
  for (const form of [...forms].sort((a, b) => b.length - a.length)) {
    out = out.replace(new RegExp(escapeRegExp(form), "gi"), REDACTED);
  }
  if (digitSecrets.length === 0) return out;
  // Every window of 8 consecutive digits of a secret (the whole secret when shorter) is a leak wherever it
  // stands in a run.
  const windows = new Set<string>();
  for (const digits of digitSecrets) {
    const size = Math.min(MIN_FRAGMENT_DIGITS, digits.length);
    for (let i = 0; i + size <= digits.length; i++) windows.add(digits.slice(i, i + size));
  }
  return out.replace(DIGIT_RUN, (run) => {
    const digits = run.replace(/\D/g, "");
    for (const window of windows) if (digits.includes(window)) return REDACTED;
    return run;
  });
}

/**
 * Parses a `Retry-After` header (RFC 9110 § 10.2.3): delay-seconds or an HTTP date. Returns milliseconds
 * (never negative), or `undefined` when absent or unreadable.
 */
export function parseRetryAfter(value: string | null, nowMs: number): number | undefined {
  if (value === null) return undefined;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000;
  // An HTTP-date (IMF-fixdate, RFC 850 or asctime) always names the month; Date.parse alone would read "-5".
  if (!/[A-Za-z]{3}/.test(trimmed)) return undefined;
  const atMs = Date.parse(trimmed);
  if (Number.isNaN(atMs)) return undefined;
  return Math.max(0, atMs - nowMs);
}

function defaultRandom(): number {
  const bytes = systemRandom(4);
  return (((bytes[0]! << 24) | (bytes[1]! << 16) | (bytes[2]! << 8) | bytes[3]!) >>> 0) / 2 ** 32;
}

function defaultSleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Resolves after `sleep(ms)`, or as soon as `signal` aborts (whichever first); never rejects. */
function sleepUnlessAborted(
  sleep: (ms: number) => Promise<void>,
  ms: number,
  signal: AbortSignal | undefined,
): Promise<void> {
  if (signal === undefined) return sleep(ms);
  if (signal.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      signal.removeEventListener("abort", done);
      resolve();
    };
    signal.addEventListener("abort", done, { once: true });
    sleep(ms).then(done, done);
  });
}

function parseBody(text: string): unknown {
  if (text === "") return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/** Reads `{ code, message }` (or `{ error: { code, message } }`) when the body has that shape. */
export function defaultParseError(_status: number, body: unknown): ProviderErrorInfo | undefined {
  if (!body || typeof body !== "object")
    return typeof body === "string" ? { message: body.slice(0, 500) } : undefined;
  const outer = body as { code?: unknown; message?: unknown; error?: unknown };
  const inner =
    outer.error && typeof outer.error === "object"
      ? (outer.error as { code?: unknown; message?: unknown })
      : outer;
  const code =
    typeof inner.code === "string" || typeof inner.code === "number" ? String(inner.code) : undefined;
  const message =
    typeof inner.message === "string"
      ? inner.message
      : typeof outer.error === "string"
        ? outer.error
        : undefined;
  return { ...(code !== undefined ? { code } : {}), ...(message !== undefined ? { message } : {}) };
}

function errorName(error: unknown): string {
  if (error && typeof error === "object") {
    const cause = (error as { cause?: { code?: unknown } }).cause;
    if (cause && typeof cause.code === "string") return cause.code; // undici: fetch failed → ECONNREFUSED
    const code = (error as { code?: unknown }).code;
    if (typeof code === "string") return code;
    const name = (error as { name?: unknown }).name;
    if (typeof name === "string") return name;
  }
  return "error";
}

function isTimeout(error: unknown): boolean {
  return (
    typeof error === "object" &&
    error !== null &&
    ((error as { name?: unknown }).name === "TimeoutError" ||
      (error as { cause?: { name?: unknown } }).cause?.name === "TimeoutError")
  );
}

/**
 * Sends one request, retrying as described in the module comment. Resolves with the 2xx answer; rejects with
 * `DeliveryFailedError` (`cause`: a {@link ProviderError}) on anything else.
 *
 * @param request - what to send
 * @param options - the client's configuration
 * @param secrets - strings that must never appear in an error: credentials, the code, the recipient
 */
export async function sendHttp(
  request: HttpRequest,
  options: HttpClientOptions,
  secrets: readonly string[],
): Promise<HttpResult> {
  const doFetch: FetchLike = options.fetch ?? ((url, init) => globalThis.fetch(url, init));
  const maxAttempts = Math.max(1, Math.floor(options.maxAttempts ?? HTTP_DEFAULTS.maxAttempts));
  const baseDelayMs = options.baseDelayMs ?? HTTP_DEFAULTS.baseDelayMs;
  const maxDelayMs = options.maxDelayMs ?? HTTP_DEFAULTS.maxDelayMs;
  const maxRetryAfterMs = options.maxRetryAfterMs ?? HTTP_DEFAULTS.maxRetryAfterMs;
  const timeoutMs = options.timeoutMs ?? HTTP_DEFAULTS.timeoutMs;
  const budgetMs = options.budgetMs ?? HTTP_DEFAULTS.budgetMs;
  const sleep = options.sleep ?? defaultSleep;
  const random = options.random ?? defaultRandom;
  const now = options.now ?? (() => systemClock.now());
  const signal = options.signal;
  const budgetEndsAtMs = now() + budgetMs;

  const fail = (message: string, cause: ProviderError, retryable: boolean): DeliveryFailedError =>
    new DeliveryFailedError(message, {
      scope: options.scope,
      cause,
      retryable,
      ...(cause.providerCode !== undefined ? { providerCode: cause.providerCode } : {}),
    });
  const aborted = (attempts: number): DeliveryFailedError =>
    fail(
      `aborted by the delivery deadline or the caller after ${attempts} attempt${attempts === 1 ? "" : "s"}`,
      new ProviderError({ kind: "aborted", attempts }),
      false,
    );

  for (let attempt = 1; ; attempt++) {
    if (signal?.aborted) throw aborted(attempt - 1);
    const last = attempt >= maxAttempts;
    let retryAfterMs: number | undefined;
    let failure: { error: DeliveryFailedError; retryable: boolean };
    // The last slice of the budget: the attempt's timeout never runs past it.
    const attemptTimeoutMs = Math.max(1, Math.min(timeoutMs, budgetEndsAtMs - now()));
    try {
      const timeout = AbortSignal.timeout(attemptTimeoutMs);
      const init: RequestInit = {
        method: request.method,
        headers: { ...request.headers },
        signal: signal === undefined ? timeout : AbortSignal.any([timeout, signal]),
        redirect: "error",
      };
      if (request.body !== undefined) init.body = request.body;
      const response = await doFetch(request.url, init);
      const text = await response.text();
      const body = parseBody(text);
      if (response.ok) return { status: response.status, body, attempts: attempt };

      const info = (options.parseError ?? defaultParseError)(response.status, body) ?? {};
      const retryable = info.retryable ?? (response.status === 429 || response.status >= 500);
      const cause = new ProviderError({
        kind: "http",
        status: response.status,
        attempts: attempt,
        ...(info.code !== undefined ? { providerCode: redact(String(info.code), secrets) } : {}),
        ...(info.message !== undefined ? { providerMessage: redact(String(info.message), secrets) } : {}),
      });
      const codePart = cause.providerCode !== undefined ? ` (code ${cause.providerCode})` : "";
      failure = {
        retryable,
        error: fail(
          `provider answered HTTP ${response.status}${codePart} after ${attempt} attempt${attempt > 1 ? "s" : ""}`,
          cause,
          retryable,
        ),
      };
      if (retryable) retryAfterMs = parseRetryAfter(response.headers.get("retry-after"), now());
    } catch (error) {
      if (signal?.aborted) throw aborted(attempt);
      const kind = isTimeout(error) ? "timeout" : "network";
      const rawMessage = error instanceof Error ? error.message : String(error);
      const cause = new ProviderError({
        kind,
        attempts: attempt,
        providerMessage: redact(`${errorName(error)}: ${rawMessage}`, secrets),
      });
      const what = kind === "timeout" ? `no answer within ${attemptTimeoutMs} ms` : "network error";
      failure = {
        retryable: true,
        error: fail(`${what} after ${attempt} attempt${attempt > 1 ? "s" : ""}`, cause, true),
      };
    }

    if (!failure.retryable || last) throw failure.error;
    if (retryAfterMs !== undefined && retryAfterMs > maxRetryAfterMs) {
      // The provider asks for a longer pause than a short-lived code can afford: stop here, retryable, so that
      // the delivery policy can fall back to another channel.
      throw failure.error;
    }
    const ceiling = Math.min(maxDelayMs, baseDelayMs * 2 ** (attempt - 1));
    const jitter = Math.floor(random() * ceiling);
    const waitMs = Math.max(retryAfterMs ?? 0, jitter);
    // No wait (and no attempt after it) past the budget: the fallback gets the time instead.
    if (now() + waitMs >= budgetEndsAtMs) throw failure.error;
    await sleepUnlessAborted(sleep, waitMs, signal);
  }
}
