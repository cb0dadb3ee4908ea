/**
 * The notifier conformance kit: one suite that checks a {@link Notifier} against the port's contract, with the
 * test runner passed in (vitest, jest, or a hand-written runner).
 *
 * @module
 */

import { argOptions } from "../_internal/args.js";
import { DeliveryFailedError, HealthTokenError } from "../errors.js";
import type { Channel, Locale, Notifier, TokenMessage } from "../ports/notifier.js";
import { conformanceExpect as expect } from "./expect.js";

/**
 * The test runner handed to {@link runNotifierConformance}: `describe` and `it`, as vitest and Jest name them
 * (for `node:test`, use {@link nodeTestRunner}).
 *
 * @example
 * ```ts
 * import { describe, expect, it } from "vitest";
 * // vitest's and Jest's globals fit as they are; for node:test use nodeTestRunner(nodeTest).
 * const test: NotifierConformanceRunner = { describe, it, expect };
 * runNotifierConformance({ name: "MyPushNotifier", channel: "app", test, ...rest });
 * ```
 */
export interface NotifierConformanceRunner {
  /** Groups cases; called synchronously while the suite is declared. */
  describe(name: string, body: () => void): void;
  /** Declares one asynchronous case, with an optional timeout in ms. */
  it(name: string, body: () => Promise<void>, timeoutMs?: number): void;
  /**
   * Not used by the kit, which compares with {@link conformanceExpect} so that its verdict is the same under
   * every runner; accepted so that `{ describe, it, expect }` still fits.
   */
  expect?(actual: unknown): unknown;
}

/** What {@link runNotifierConformance} is given. */
export interface NotifierConformanceOptions {
  /** The notifier's name, used as the title of the suite. */
  readonly name: string;
  /** The channel the notifier serves. */
  readonly channel: Channel;
  /** A recipient valid on the channel: E.164 for sms and whatsapp, an e-mail, an app user or device id. */
  readonly recipient: string;
  /** Creates a notifier whose provider accepts messages. */
  readonly createNotifier: () => Notifier | Promise<Notifier>;
  /**
   * Everything the accepting provider has received so far, as text: request bodies, or the decoded text and
   * HTML of each mail. Used to find the codes.
   */
  readonly received: () => readonly string[] | Promise<readonly string[]>;
  /**
   * Creates a notifier whose provider refuses every message (or cannot be reached). For a real test of
   * redaction, let that provider echo the request (recipient, code, credentials) in its error message.
   */
  readonly createFailingNotifier: () => Notifier | Promise<Notifier>;
  /** Credentials that must never appear in an error: access tokens, passwords, signing secrets. */
  readonly secrets: readonly string[];
  /** The test runner. */
  readonly test: NotifierConformanceRunner;
  /** Timeout of each case in ms (default 30,000). */
  readonly timeoutMs?: number | undefined;
}

function randomDigits(length: number): string {
  const bytes = new Uint8Array(length);
  globalThis.crypto.getRandomValues(bytes);
  return Array.from(bytes, (b) => String(b % 10)).join("");
}

function randomId(prefix: string): string {
  return `${prefix}-${randomDigits(12)}`;
}

/**
 * Every string reachable from an error: message, stack, own properties, and the same for its `cause` chain
 * (five levels deep).
 */
function errorTexts(error: unknown, depth = 0, seen = new Set<unknown>()): string[] {
  if (error === null || error === undefined || depth > 5 || seen.has(error)) return [];
  seen.add(error);
  if (typeof error !== "object") return [String(error)];
  const out: string[] = [];
  const e = error as { message?: unknown; stack?: unknown; cause?: unknown };
  if (typeof e.message === "string") out.push(e.message);
  if (typeof e.stack === "string") out.push(e.stack);
  try {
    out.push(String(error));
  } catch {
    // An object without a usable toString: its properties are still read below.
  }
  for (const key of Object.getOwnPropertyNames(error)) {
    if (key === "cause") continue;
    const value = (error as Record<string, unknown>)[key];
    if (typeof value === "string" || typeof value === "number") out.push(String(value));
    else if (value && typeof value === "object") {
      try {
        out.push(JSON.stringify(value));
      } catch {
        out.push(...errorTexts(value, depth + 1, seen));
      }
    }
  }
  out.push(...errorTexts(e.cause, depth + 1, seen));
  return out;
}

/**
 * Declares the conformance suite for a notifier: it delivers the message's code to the recipient (alone and
 * concurrently, in pt-BR and en), sends no beneficiary id, reports a refusal as a `DeliveryFailedError` with a
 * boolean `retryable`, and leaks no credential, code or recipient address in the error or its `cause` chain.
 *
 * @param options - how to build the notifiers, read what the provider received, and the runner
 *
 * @example
 * ```ts
 * import { describe, expect, it } from "vitest";
 * import { runNotifierConformance } from "health-token/testing";
 *
 * runNotifierConformance({
 *   name: "WhatsAppNotifier",
 *   channel: "whatsapp",
 *   recipient: "+5543999990001",
 *   createNotifier: () => new WhatsAppNotifier({ ...options, baseUrl: okServer.url }),
 *   createFailingNotifier: () => new WhatsAppNotifier({ ...options, baseUrl: refusingServer.url }),
 *   received: () => okServer.bodies(),
 *   secrets: [options.accessToken],
 *   test: { describe, it, expect },
 * });
 * ```
 */
export function runNotifierConformance(options: NotifierConformanceOptions): void {
  argOptions(options, "runNotifierConformance");
  argOptions(options.test, "runNotifierConformance (options.test: describe, it, expect)");
  const { test, channel, recipient } = options;
  const timeout = options.timeoutMs ?? 30_000;

  const message = (overrides: Partial<TokenMessage> = {}): TokenMessage => ({
    code: randomDigits(8),
    ttlSeconds: 1800,
    expiresAtMs: 1_790_000_000_000 + 1_800_000,
    channel,
    to: recipient,
    recipient: "beneficiary",
    beneficiaryId: randomId("beneficiary"),
    locale: "pt-BR",
    operatorName: "Operadora Exemplo",
    ...overrides,
  });

  const containing = async (needle: string): Promise<number> =>
    (await options.received()).filter((text) => text.includes(needle)).length;

  test.describe(`notifier conformance: ${options.name}`, () => {
    for (const locale of ["pt-BR", "en"] as const satisfies readonly Locale[]) {
      test.it(
        `delivers the code once and reports the channel (${locale})`,
        async () => {
          const notifier = await options.createNotifier();
          const sent = message({ locale });
          const receipt = await notifier.send(sent);
          expect(receipt.channel).toBe(channel);
          expect(await containing(sent.code)).toBe(1);
        },
        timeout,
      );
    }

    test.it(
      "delivers concurrent messages, each with its own code",
      async () => {
        const notifier = await options.createNotifier();
        const messages = Array.from({ length: 8 }, () => message());
        const receipts = await Promise.all(messages.map((m) => notifier.send(m)));
        expect(receipts.map((r) => r.channel)).toEqual(messages.map(() => channel));
        const counts = await Promise.all(messages.map((m) => containing(m.code)));
        expect(counts).toEqual(messages.map(() => 1));
      },
      timeout,
    );

    test.it(
      "sends nothing about the beneficiary but the code",
      async () => {
        const notifier = await options.createNotifier();
        const sent = message();
        await notifier.send(sent);
        expect(await containing(sent.beneficiaryId)).toBe(0);
      },
      timeout,
    );

    test.it(
      "reports a refusal as DeliveryFailedError",
      async () => {
        const notifier = await options.createFailingNotifier();
        const error = await notifier.send(message()).then(
          () => undefined,
          (e: unknown) => e,
        );
        expect(error instanceof DeliveryFailedError).toBe(true);
        expect(error instanceof HealthTokenError && error.code).toBe("DELIVERY_FAILED");
        expect(typeof (error as DeliveryFailedError | undefined)?.retryable).toBe("boolean");
      },
      timeout,
    );

    test.it(
      "leaks no credential, code or recipient in the error or its cause",
      async () => {
        const notifier = await options.createFailingNotifier();
        const sent = message();
        const error = await notifier.send(sent).then(
          () => undefined,
          (e: unknown) => e,
        );
        expect(error === undefined).toBe(false);
        const texts = errorTexts(error);
        const forbidden: [string, string][] = [
          ...options.secrets.map((s, i): [string, string] => [`secrets[${i}]`, s]),
          ["code", sent.code],
          ["recipient", sent.to],
        ];
        const leaked = forbidden
          .filter(([, value]) => value.length > 0 && texts.some((text) => text.includes(value)))
          .map(([label]) => label);
        expect(leaked).toEqual([]);
      },
      timeout,
    );
  });
}
