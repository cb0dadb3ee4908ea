/**
 * Test doubles for the token service: a clock you move by hand, a notifier that keeps what it was asked to
 * send, and a seeded random source. For tests, demos and examples only: never in production.
 */

import { argInt } from "../_internal/args.js";
import { DeliveryFailedError } from "../errors.js";
import type { Clock, RandomSource } from "../ports/clock.js";
import type { DeliveryReceipt, Notifier, TokenMessage } from "../ports/notifier.js";

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
}

/** A failure rule of an {@link OutboxNotifier}: returns the error to throw for a message, or `undefined`. */
export type OutboxFailure = (message: TokenMessage) => Error | undefined;

/**
 * A {@link Notifier} that delivers nothing and records every message, so a test can read the code that would
 * have reached the beneficiary. Can be told to fail.
 *
 * @example
 * ```ts
 * const outbox = new OutboxNotifier();
 * await tokens.issue({ guide, beneficiary });
 * const code = outbox.lastCodeFor(beneficiary.id);
 * outbox.failNext(); // the next send throws DeliveryFailedError
 * ```
 */
export class OutboxNotifier implements Notifier {
  readonly #messages: TokenMessage[] = [];
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

  /** The code of the latest message for a beneficiary, or `undefined`. */
  lastCodeFor(beneficiaryId: string): string | undefined {
    for (let i = this.#messages.length - 1; i >= 0; i--) {
      const message = this.#messages[i]!;
      if (message.beneficiaryId === beneficiaryId) return message.code;
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
    this.#failures.length = 0;
    this.#rule = undefined;
  }

  /** Records the message, or throws the planned failure. */
  async send(message: TokenMessage): Promise<DeliveryReceipt> {
    this.#sends++;
    const planned = this.#failures.shift() ?? this.#rule?.(message);
    if (planned) throw planned;
    this.#messages.push({ ...message });
    return { channel: message.channel, providerMessageId: `outbox-${this.#messages.length}` };
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
