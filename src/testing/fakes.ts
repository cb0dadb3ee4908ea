/**
 * Test doubles for the token service: a clock you move by hand, a notifier that keeps what it was asked to
 * send, and a seeded random source. For tests, demos and examples only: never in production.
 */

import { argInt } from "../_internal/args.js";
import { DeliveryFailedError, InvalidArgumentError, NothingSentError } from "../errors.js";
import type { Clock, RandomSource } from "../ports/clock.js";
import type { TokenEvent, TokenEventType } from "../ports/events.js";
import type { DeliveryReceipt, Notifier, TokenMessage } from "../ports/notifier.js";
import { guideIdOfReportRef } from "../service/_report-ref.js";

/** 2026-11-23T12:00:00Z, the default start of a {@link FakeClock}. */
const DEFAULT_START_MS = Date.UTC(2026, 10, 23, 12, 0, 0);

/**
 * A {@link Clock} that only moves when told to.
 *
 * @example
 * ```ts
 * const clock = new FakeClock(Date.UTC(2026, 10, 23, 12));
 * clock.advance(30 * 60_000); // exactly the TTL later
 * ```
 */
export class FakeClock implements Clock {
  #nowMs: number;

  /** @param startMs - the initial time (ms since the epoch; default 2026-11-23T12:00:00Z) */
  constructor(startMs: number = DEFAULT_START_MS) {
    this.#nowMs = startMs;
  }

  /** The current fake time (ms). */
  now(): number {
    return this.#nowMs;
  }

  /** Moves the clock forward (or back, with a negative value) by `ms`; returns the new time. */
  advance(ms: number): number {
    this.#nowMs += ms;
    return this.#nowMs;
  }

  /** Sets the clock to `ms`. */
  set(ms: number): void {
    this.#nowMs = ms;
  }

  /**
   * A clock at a local time in Brasília (UTC−3 all year: Brazil has had no daylight saving time since 2019),
   * written `YYYY-MM-DDTHH:mm` or `YYYY-MM-DDTHH:mm:ss`. A malformed or impossible time throws
   * `InvalidArgumentError`.
   *
   * @example
   * ```ts
   * const clock = FakeClock.atBrasilia("2026-12-01T09:00"); // 12:00 UTC
   * ```
   */
  static atBrasilia(localTime: string): FakeClock {
    const match =
      typeof localTime === "string"
        ? /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2}))?$/.exec(localTime)
        : null;
    const [y, mo, d, h, mi, se] = (match?.slice(1) ?? []).map((part) => Number(part ?? 0));
    const ms = match ? Date.UTC(y!, mo! - 1, d!, h! + 3, mi!, se!) : Number.NaN;
    // Date.UTC rolls 31 Feb over into March: compare the local fields back.
    const back = new Date(ms - 3 * 3_600_000);
    if (
      !match ||
      back.getUTCFullYear() !== y ||
      back.getUTCMonth() !== mo! - 1 ||
      back.getUTCDate() !== d ||
      back.getUTCHours() !== h ||
      back.getUTCMinutes() !== mi
    ) {
      throw new InvalidArgumentError("invalid Brasília local time", [
        { path: "localTime", message: "expected a real time as YYYY-MM-DDTHH:mm[:ss]" },
      ]);
    }
    return new FakeClock(ms);
  }
}

/** A failure rule of an {@link OutboxNotifier}: returns the error to throw for a message, or `undefined`. */
export type OutboxFailure = (message: TokenMessage) => Error | undefined;

/** A send an {@link OutboxNotifier} was told to fail: the message and the error it threw. */
export interface OutboxFailedSend {
  /** The message that was not sent. */
  readonly message: TokenMessage;
  /** The guide, read from the message's `reportRef` (`undefined` when it has none). */
  readonly guideId: string | undefined;
  /** What the send threw. */
  readonly error: Error;
}

/** The guide of a message, from its `reportRef` (every message of the token service carries one). */
const guideOf = (message: TokenMessage): string | undefined =>
  message.reportRef === undefined ? undefined : guideIdOfReportRef(message.reportRef);

/**
 * A {@link Notifier} that delivers nothing and records every message, so a test can read the code that would
 * have reached the beneficiary. Can be told to fail; failed sends are recorded too.
 *
 * @example
 * ```ts
 * const outbox = new OutboxNotifier();
 * await tokens.issue({ guide, beneficiary });
 * const code = outbox.lastCodeFor(beneficiary.id); // throws NothingSentError when nothing was sent
 * const same = outbox.lastCodeForGuide(guide.id);
 * outbox.failNext(); // the next send throws DeliveryFailedError, listed in outbox.failedSends
 * ```
 */
export class OutboxNotifier implements Notifier {
  readonly #messages: TokenMessage[] = [];
  readonly #failedSends: OutboxFailedSend[] = [];
  readonly #failures: Error[] = [];
  #rule: OutboxFailure | undefined;
  #sends = 0;

  /** Every message accepted so far, oldest first. */
  get messages(): readonly TokenMessage[] {
    return this.#messages;
  }

  /** How many sends were attempted (accepted or failed). */
  get sendCount(): number {
    return this.#sends;
  }

  /** Every send that failed (planned with `failNext` or `failWith`), oldest first. */
  get failedSends(): readonly OutboxFailedSend[] {
    return this.#failedSends;
  }

  /** The messages of one guide (read from each message's `reportRef`), oldest first. */
  messagesForGuide(guideId: string): TokenMessage[] {
    return this.#messages.filter((message) => guideOf(message) === guideId);
  }

  /**
   * The code of the latest message for a beneficiary (a guardian's copy counts for the dependent it was
   * about); throws `NothingSentError` when none was sent, so a test needs no `!`.
   */
  lastCodeFor(beneficiaryId: string): string {
    const message = this.#latest((m) => m.beneficiaryId === beneficiaryId);
    if (message === undefined)
      throw new NothingSentError(`no code was sent for beneficiary ${beneficiaryId}`);
    return message.code;
  }

  /** The code of the latest message for a guide; throws `NothingSentError` when none was sent. */
  lastCodeForGuide(guideId: string): string {
    const message = this.#latest((m) => guideOf(m) === guideId);
    if (message === undefined) throw new NothingSentError(`no code was sent for guide ${guideId}`);
    return message.code;
  }

  #latest(match: (message: TokenMessage) => boolean): TokenMessage | undefined {
    for (let i = this.#messages.length - 1; i >= 0; i--) {
      if (match(this.#messages[i]!)) return this.#messages[i];
    }
    return undefined;
  }

  /** The latest message, or `undefined`. */
  last(): TokenMessage | undefined {
    return this.#messages[this.#messages.length - 1];
  }

  /**
   * Makes the next `times` sends fail with `error` (default: a retryable `DeliveryFailedError` with
   * provider code `outbox_failure`).
   */
  failNext(times = 1, error?: Error): this {
    for (let i = 0; i < times; i++) {
      this.#failures.push(
        error ??
          new DeliveryFailedError("outbox told to fail", {
            scope: "outbox",
            providerCode: "outbox_failure",
            retryable: true,
          }),
      );
    }
    return this;
  }

  /** Fails every send for which `rule` returns an error (such as every `sms`), until cleared with `undefined`. */
  failWith(rule: OutboxFailure | undefined): this {
    this.#rule = rule;
    return this;
  }

  /** Forgets the messages and the failure rules. */
  clear(): void {
    this.#messages.length = 0;
    this.#failedSends.length = 0;
    this.#failures.length = 0;
    this.#rule = undefined;
  }

  /** Records the message, or throws the planned failure. */
  async send(message: TokenMessage): Promise<DeliveryReceipt> {
    this.#sends++;
    const planned = this.#failures.shift() ?? this.#rule?.(message);
    if (planned) {
      this.#failedSends.push({ message: { ...message }, guideId: guideOf(message), error: planned });
      throw planned;
    }
    this.#messages.push({ ...message });
    return { channel: message.channel, providerMessageId: `outbox-${this.#messages.length}` };
  }
}

/**
 * Records the events of a token service (pass `recorder.onEvent` as the service's `onEvent`) and lets a test
 * await one, such as the `token.delivered` of a background issue.
 *
 * @example
 * ```ts
 * const recorder = new EventRecorder();
 * const tokens = createTokenService({ store, notifier, pepper, onEvent: recorder.onEvent });
 * await tokens.issue({ guide, beneficiary, background: true });
 * const delivered = await recorder.waitFor("token.delivered", { guideId: guide.id });
 * ```
 */
export class EventRecorder {
  readonly #events: TokenEvent[] = [];
  readonly #waiters = new Set<{ match: (e: TokenEvent) => boolean; resolve: (e: TokenEvent) => void }>();

  /** Every event so far, oldest first. */
  get events(): readonly TokenEvent[] {
    return this.#events;
  }

  /** The types of the events so far, oldest first. */
  get types(): TokenEventType[] {
    return this.#events.map((e) => e.type);
  }

  /** The observer to pass as `onEvent` (bound: it may be passed on its own). */
  readonly onEvent = (event: TokenEvent): void => {
    this.#events.push(event);
    for (const waiter of this.#waiters) {
      if (waiter.match(event)) {
        this.#waiters.delete(waiter);
        waiter.resolve(event);
      }
    }
  };

  /**
   * The first event of `type` (and of `guideId`, when given), recorded already or still to come. Rejects with
   * `NothingSentError` after `timeoutMs` (default 2000 ms of real time) when none arrived, and with
   * `InvalidArgumentError` for a `timeoutMs` that is not an integer from 1 to 600000.
   */
  waitFor(
    type: TokenEventType,
    options: { readonly guideId?: string | undefined; readonly timeoutMs?: number | undefined } = {},
  ): Promise<TokenEvent> {
    const match = (e: TokenEvent) =>
      e.type === type && (options.guideId === undefined || e.guideId === options.guideId);
    const seen = this.#events.find(match);
    if (seen !== undefined) return Promise.resolve(seen);
    const timeoutMs = options.timeoutMs ?? 2_000;
    try {
      argInt(timeoutMs, "timeoutMs", 1, 600_000);
    } catch (error) {
      return Promise.reject(error);
    }
    return new Promise((resolve, reject) => {
      const waiter = {
        match,
        resolve: (e: TokenEvent) => {
          clearTimeout(timer);
          resolve(e);
        },
      };
      const timer = setTimeout(() => {
        this.#waiters.delete(waiter);
        reject(new NothingSentError(`no ${type} event within ${timeoutMs} ms`));
      }, timeoutMs);
      this.#waiters.add(waiter);
    });
  }
}

/**
 * A deterministic {@link RandomSource} for tests: the same seed always yields the same bytes
 * (xoshiro128** seeded through splitmix32). NOT cryptographically secure: for tests and demos only, never
 * for real codes, ids or secrets.
 *
 * @example
 * ```ts
 * const tokens = createTokenService({ store, notifier, pepper, random: seededRandom(42) });
 * ```
 */
export function seededRandom(seed: number): RandomSource {
  argInt(seed, "seed", -(2 ** 53 - 1), 2 ** 53 - 1);
  let s = seed >>> 0;
  const splitmix = (): number => {
    s = (s + 0x9e3779b9) >>> 0;
    let z = s;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    return (z ^ (z >>> 16)) >>> 0;
  };
  let a = splitmix();
  let b = splitmix();
  let c = splitmix();
  let d = splitmix();
  const next = (): number => {
    const result = Math.imul(rotl(Math.imul(b, 5), 7), 9) >>> 0;
    const t = b << 9;
    c ^= a;
    d ^= b;
    b ^= c;
    a ^= d;
    c ^= t;
    d = rotl(d, 11);
    return result;
  };
  return (length: number) => {
    const out = new Uint8Array(length);
    for (let i = 0; i < length; i += 4) {
      const word = next();
      for (let j = 0; j < 4 && i + j < length; j++) out[i + j] = (word >>> (8 * j)) & 0xff;
    }
    return out;
  };
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}
