/**
 * One delivery run of a token: a `token.delivery_started` event first (so a run the process never finished is
 * visible after a restart), then the tries of {@link deliver} under one deadline, each try an event with its
 * duration, and on failure the token revoked. A run waits for its outcome (foreground) or goes on after
 * `issue` returned (background). A resend, or a `failed` receipt handing the code to the next fallback
 * contact, starts another run of the same token through {@link startDelivery}.
 *
 * @module
 */
import { base64urlDecode, base64urlOfText, randomId } from "../_internal/ids.js";
import type { Mutable } from "../_internal/mutable.js";
import { DeliveryFailedError, HealthTokenError } from "../errors.js";
import type { TokenEvent } from "../ports/events.js";
import type { Channel, TokenMessage } from "../ports/notifier.js";
import { AbortLatch } from "./_abort-latch.js";
import {
  type Delivered,
  type DeliveryTarget,
  deliver,
  failureReason,
  type NotifierOption,
} from "./delivery.js";
import { type ServiceContext, storeOp } from "./token-service.js";

/** The service-wide delivery settings ({@link TokenServiceOptions.delivery}). */
export interface DeliveryOptions {
  /** The whole delivery's budget when `issue` waits for it, in ms (default 15,000). */
  readonly deadlineMs?: number | undefined;
  /** The whole delivery's budget in background mode, in ms (default 60,000). */
  readonly backgroundDeadlineMs?: number | undefined;
  /**
   * When a provider reports `failed` for the message that carried the code, while the token is active, send
   * the same code to the next fallback contact (default `true`; needs `policy.fallback`). The code and the
   * remaining contacts are held in this process's memory only, until the token expires.
   */
  readonly fallbackOnFailedReceipt?: boolean | undefined;
}

/** {@link DeliveryOptions} with every default filled in (internal). */
export type ResolvedDeliveryOptions = {
  readonly [K in keyof DeliveryOptions]-?: Exclude<DeliveryOptions[K], undefined>;
};

/** The defaults of {@link DeliveryOptions}. */
export const DELIVERY_DEFAULTS = Object.freeze({
  deadlineMs: 15_000,
  backgroundDeadlineMs: 60_000,
  fallbackOnFailedReceipt: true,
});

/** The token a run delivers (internal). */
export interface DeliveryJob {
  readonly tokenId: string;
  readonly guideId: string;
  readonly providerId: string;
  readonly beneficiaryId: string;
  readonly code: string;
  readonly expiresAtMs: number;
  readonly targets: readonly DeliveryTarget[];
  /** What the message says beyond the code, per channel (the attendance context, the report reference). */
  readonly messageExtras?: (channel: Channel) => Partial<TokenMessage>;
  /** Records a delivery event (default: the service's append); the service also copies it to a guardian. */
  readonly record?: (event: TokenEvent) => Promise<void>;
}

/** How a run is started (internal). */
export interface RunOptions {
  readonly mode: "foreground" | "background";
  readonly deadlineMs: number;
  readonly signal?: AbortSignal | undefined;
}

/** A run's `token.delivery_started`, recorded by the caller (in the store step) before `start`. */
export interface RecordedStart {
  readonly event: TokenEvent;
  readonly deliveryId: string;
  readonly deadlineAtMs: number;
}

/** A started run (internal). */
export interface StartedRun {
  readonly deliveryId: string;
  readonly deadlineAtMs: number;
  /** Settles with the outcome; in background mode it never rejects. */
  readonly done: Promise<Delivered>;
}

const REFERENCE_PREFIX = "ht1";

/** The opaque reference sent to providers: the token and its guide, no personal data. */
export function encodeReference(tokenId: string, guideId: string): string {
  return `${REFERENCE_PREFIX}.${tokenId}.${base64urlOfText(guideId)}`;
}

/** Reads a reference back; `undefined` when it is not one of ours. */
export function decodeReference(reference: string): { tokenId: string; guideId: string } | undefined {
  if (typeof reference !== "string" || reference.length > 512) return undefined;
  const parts = reference.split(".");
  if (parts.length !== 3 || parts[0] !== REFERENCE_PREFIX || !/^[A-Za-z0-9_-]{1,64}$/.test(parts[1]!)) {
    return undefined;
  }
  const bytes = base64urlDecode(parts[2]!);
  if (bytes === undefined || bytes.length === 0) return undefined;
  let guideId: string;
  try {
    guideId = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    return undefined;
  }
  return { tokenId: parts[1]!, guideId };
}

/** What a later run of the same token needs, held in memory until the token expires (internal). */
interface Held {
  readonly job: DeliveryJob;
  /** Index in `job.targets` of the target that delivered last. */
  deliveredIndex: number;
  providerMessageId: string | undefined;
}

/**
 * The runs of one service instance: which are in flight (so a status read in this process can say `pending`
 * with certainty), and, for failed-receipt fallback, the job of each token until it expires.
 */
export class DeliveryRunner {
  readonly #ctx: ServiceContext;
  readonly #notifiers: NotifierOption;
  readonly #options: ResolvedDeliveryOptions;
  readonly #inFlight = new Set<string>();
  readonly #held = new Map<string, Held>();

  constructor(ctx: ServiceContext, notifiers: NotifierOption, options: DeliveryOptions | undefined) {
    this.#ctx = ctx;
    this.#notifiers = notifiers;
    this.#options = { ...DELIVERY_DEFAULTS, ...stripUndefined(options ?? {}) };
  }

  /** The resolved settings. */
  get options(): ResolvedDeliveryOptions {
    return this.#options;
  }

  /** Whether a run of this token is in flight in this process. */
  inFlight(tokenId: string): boolean {
    return this.#inFlight.has(tokenId);
  }

  /**
   * Records `token.delivery_started`, then runs the tries. Rejects (foreground) only before the first try
   * (the store failed) or with the delivery's `DeliveryFailedError`; in background mode `done` never rejects.
   */
  /** The `token.delivery_started` event of a new run of a token, for the caller to record. */
  startedEvent(
    token: Pick<DeliveryJob, "tokenId" | "guideId" | "providerId" | "beneficiaryId">,
    run: RunOptions,
    atMs: number,
  ): RecordedStart {
    const deliveryId = randomId(this.#ctx.pool);
    const deadlineAtMs = atMs + run.deadlineMs;
    const event: TokenEvent = {
      id: randomId(this.#ctx.pool),
      atMs,
      beneficiaryId: token.beneficiaryId,
      guideId: token.guideId,
      providerId: token.providerId,
      tokenId: token.tokenId,
      deliveryId,
      type: "token.delivery_started",
      mode: run.mode,
      deadlineAtMs,
    };
    return { event, deliveryId, deadlineAtMs };
  }

  /**
   * Records `token.delivery_started` (unless the caller did, `recorded`), then runs the tries. Rejects
   * (foreground) only before the first try (the store failed) or with the delivery's `DeliveryFailedError`; in
   * background mode `done` never rejects.
   */
  async start(
    job: DeliveryJob,
    run: RunOptions,
    fromIndex = 0,
    recorded?: RecordedStart,
  ): Promise<StartedRun> {
    const ctx = this.#ctx;
    let start = recorded;
    if (start === undefined) {
      start = this.startedEvent(job, run, ctx.clock.now());
      await ctx.append(start.event);
    }
    const { deliveryId, deadlineAtMs } = start;
    const base = {
      beneficiaryId: job.beneficiaryId,
      guideId: job.guideId,
      providerId: job.providerId,
      tokenId: job.tokenId,
      deliveryId,
    } as const;
    const done = this.#run(job, run, fromIndex, base, deadlineAtMs);
    if (run.mode === "background") done.catch(() => {});
    return { deliveryId, deadlineAtMs, done };
  }

  async #run(
    job: DeliveryJob,
    run: RunOptions,
    fromIndex: number,
    base: {
      beneficiaryId: string;
      guideId: string;
      providerId: string;
      tokenId: string;
      deliveryId: string;
    },
    deadlineAtMs: number,
  ): Promise<Delivered> {
    const ctx = this.#ctx;
    const controller = new AbortLatch();
    const timer = setTimeout(
      () => controller.abort(new DOMException("the delivery deadline passed", "TimeoutError")),
      Math.max(0, deadlineAtMs - ctx.clock.now()),
    );
    const onCallerAbort = () => controller.abort(run.signal?.reason);
    if (run.signal?.aborted) onCallerAbort();
    else run.signal?.addEventListener("abort", onCallerAbort, { once: true });
    this.#inFlight.add(job.tokenId);
    const policy = ctx.policy;
    const targets = job.targets.slice(fromIndex);
    try {
      const delivered = await deliver(
        this.#notifiers,
        targets,
        (target) => {
          const message: Mutable<TokenMessage> = {
            code: job.code,
            ttlSeconds: Math.max(1, Math.ceil((job.expiresAtMs - ctx.clock.now()) / 1000)),
            expiresAtMs: job.expiresAtMs,
            channel: target.channel,
            to: target.address,
            recipient: target.recipient,
            beneficiaryId: job.beneficiaryId,
            locale: policy.locale,
          };
          if (policy.operatorName !== undefined) message.operatorName = policy.operatorName;
          const extras = job.messageExtras?.(target.channel);
          if (extras !== undefined) Object.assign(message, extras);
          return message;
        },
        (attempt) => {
          const t = attempt.target;
          // One literal, fields in the order of the history's other events (no spreads: this runs per try).
          const event: Mutable<TokenEvent> = {
            id: randomId(ctx.pool),
            atMs: ctx.clock.now(),
            beneficiaryId: base.beneficiaryId,
            guideId: base.guideId,
            providerId: base.providerId,
            tokenId: base.tokenId,
            deliveryId: base.deliveryId,
            type: attempt.ok ? "token.delivered" : "token.delivery_failed",
            channel: t.channel,
            maskedContact: t.masked,
            recipient: t.recipient,
            durationMs: attempt.durationMs,
          };
          if (!attempt.ok) event.reason = failureReason(attempt.error);
          else if (attempt.providerMessageId !== undefined)
            event.providerMessageId = attempt.providerMessageId;
          return (job.record ?? ctx.append)(event);
        },
        {
          signal: controller,
          now: () => ctx.clock.now(),
          reference: encodeReference(job.tokenId, job.guideId),
        },
      );
      this.#hold(job, fromIndex + targets.indexOf(delivered.target), delivered.providerMessageId);
      return delivered;
    } catch (error) {
      if (error instanceof HealthTokenError && error.code === "DELIVERY_FAILED") {
        // Nobody received it: no valid token may linger.
        this.#held.delete(job.tokenId);
        const at = ctx.clock.now();
        const revoked = await storeOp(() => ctx.store.revoke(job.guideId, at));
        if (revoked && revoked.tokenId === job.tokenId) {
          const { deliveryId: _run, ...rest } = base;
          await ctx.emit({ ...rest, type: "token.revoked", reason: "delivery_failed" }, at);
        }
      }
      throw error;
    } finally {
      clearTimeout(timer);
      run.signal?.removeEventListener("abort", onCallerAbort);
      this.#inFlight.delete(job.tokenId);
    }
  }

  #hold(job: DeliveryJob, deliveredIndex: number, providerMessageId: string | undefined): void {
    if (!this.#options.fallbackOnFailedReceipt || deliveredIndex >= job.targets.length - 1) {
      this.#held.delete(job.tokenId);
      return;
    }
    const now = this.#ctx.clock.now();
    for (const [id, held] of this.#held) if (held.job.expiresAtMs <= now) this.#held.delete(id);
    this.#held.set(job.tokenId, { job, deliveredIndex, providerMessageId });
  }

  /** Forgets a token's job (consumed, revoked). */
  forget(tokenId: string): void {
    this.#held.delete(tokenId);
  }

  /**
   * A provider reported `failed` for `providerMessageId`: when this process holds the token's job, the message
   * is the one that delivered last, and a further contact is left, starts a background run from that contact.
   */
  async fallBack(
    tokenId: string,
    providerMessageId: string,
  ): Promise<
    | { readonly outcome: "started"; readonly deliveryId: string; readonly channel: Channel }
    | { readonly outcome: "disabled" | "unavailable" | "exhausted" | "not_current" }
  > {
    if (!this.#options.fallbackOnFailedReceipt) return { outcome: "disabled" };
    const held = this.#held.get(tokenId);
    const now = this.#ctx.clock.now();
    if (held === undefined || held.job.expiresAtMs <= now) return { outcome: "unavailable" };
    if (held.providerMessageId !== providerMessageId) return { outcome: "not_current" };
    const next = held.deliveredIndex + 1;
    if (next >= held.job.targets.length) return { outcome: "exhausted" };
    this.#held.delete(tokenId);
    const deadlineMs = Math.min(this.#options.backgroundDeadlineMs, held.job.expiresAtMs - now);
    const started = await this.start(held.job, { mode: "background", deadlineMs }, next);
    return { outcome: "started", deliveryId: started.deliveryId, channel: held.job.targets[next]!.channel };
  }
}

function stripUndefined<T extends object>(value: T): { [K in keyof T]?: Exclude<T[K], undefined> } {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as {
    [K in keyof T]?: Exclude<T[K], undefined>;
  };
}

/** Whether an error is a delivery failure (for the status read's next step). */
export function isDeliveryFailure(error: unknown): error is DeliveryFailedError {
  return error instanceof DeliveryFailedError;
}
