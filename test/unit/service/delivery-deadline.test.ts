/**
 * The deadline bounds the whole delivery: every try, retry and fallback. Measured on fake timers where the
 * notifier is ours; against a real hanging gateway on loopback (accepts, never answers) asserted loosely.
 */
import { createServer, type Socket } from "node:net";
import { afterEach, describe, expect, it, vi } from "vitest";
import { MemoryTokenStore } from "../../../src/adapters/memory.js";
import { genericSms, HttpSmsNotifier } from "../../../src/adapters/sms.js";
import { DeliveryFailedError } from "../../../src/errors.js";
import type { TokenEvent } from "../../../src/ports/events.js";
import type { Notifier, SendOptions, TokenMessage } from "../../../src/ports/notifier.js";
import { createTokenService } from "../../../src/service/token-service.js";
import { FakeClock, OutboxNotifier, seededRandom } from "../../../src/testing/fakes.js";
import { adult, guide, PEPPER, T0 } from "./helpers.js";

/** A notifier that never settles, and records the signal it was given. */
class HangingNotifier implements Notifier {
  signals: (AbortSignal | undefined)[] = [];
  send(_message: TokenMessage, options?: SendOptions): Promise<never> {
    this.signals.push(options?.signal);
    return new Promise<never>(() => {});
  }
}

function service(notifier: Notifier | Record<string, Notifier>, clock = new FakeClock(T0)) {
  const events: TokenEvent[] = [];
  const store = new MemoryTokenStore();
  const tokens = createTokenService({
    store,
    notifier,
    pepper: PEPPER,
    clock,
    random: seededRandom(3),
    onEvent: (e) => {
      events.push(e);
    },
  });
  return { tokens, events, store, clock };
}

afterEach(() => {
  vi.useRealTimers();
});

describe("issue with a deadline (fake timers)", () => {
  it("settles exactly at the deadline with a notifier that never answers, and records the try's duration", async () => {
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout", "Date"], now: T0 });
    const hanging = new HangingNotifier();
    const { tokens, events, store } = service(hanging, { now: () => Date.now() } as FakeClock);
    let settled: unknown;
    const issuing = tokens.issue({ guide: guide(), beneficiary: adult(), deadlineMs: 2_000 }).then(
      (r) => {
        settled = r;
      },
      (e: unknown) => {
        settled = e;
      },
    );
    await vi.advanceTimersByTimeAsync(1_999);
    expect(settled).toBeUndefined();
    expect(hanging.signals[0]?.aborted).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    await issuing;
    expect(settled).toBeInstanceOf(DeliveryFailedError);
    expect((settled as DeliveryFailedError).providerCode).toBe("deadline");
    expect(Date.now() - T0).toBe(2_000);
    // The notifier was told to stop, and no fallback started past the deadline (sms, then email: one try).
    expect(hanging.signals).toHaveLength(1);
    expect(hanging.signals[0]?.aborted).toBe(true);
    const failed = events.filter((e) => e.type === "token.delivery_failed");
    expect(failed).toHaveLength(1);
    expect(failed[0]).toMatchObject({
      reason: "delivery_failed:deadline",
      durationMs: 2_000,
      channel: "sms",
    });
    expect(failed[0]?.maskedContact).toBe("(43) 9****-0001");
    expect((await store.get("guide-1"))?.status).toBe("revoked");
  });

  it("gives the fallback what is left of the deadline, not a fresh one", async () => {
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout", "Date"], now: T0 });
    const sms: Notifier = {
      send: () => new Promise((_, reject) => setTimeout(() => reject(new Error("gateway down")), 1_500)),
    };
    const email = new HangingNotifier();
    const { tokens, events } = service({ sms, email }, { now: () => Date.now() } as FakeClock);
    const issuing = tokens
      .issue({ guide: guide(), beneficiary: adult(), deadlineMs: 2_000 })
      .catch((e: unknown) => e);
    await vi.advanceTimersByTimeAsync(2_000);
    const error = await issuing;
    expect(error).toBeInstanceOf(DeliveryFailedError);
    expect(Date.now() - T0).toBe(2_000);
    expect(
      events
        .filter((e) => e.type === "token.delivery_failed")
        .map((e) => [e.channel, e.durationMs, e.reason]),
    ).toEqual([
      ["sms", 1_500, "delivery_failed"],
      ["email", 500, "delivery_failed:deadline"],
    ]);
  });

  it("the caller's AbortSignal cancels the delivery", async () => {
    const hanging = new HangingNotifier();
    const { tokens, store } = service(hanging);
    const controller = new AbortController();
    const issuing = tokens
      .issue({ guide: guide(), beneficiary: adult(), signal: controller.signal })
      .catch((e: unknown) => e);
    await new Promise((r) => setImmediate(r));
    controller.abort();
    const error = (await issuing) as DeliveryFailedError;
    expect(error).toBeInstanceOf(DeliveryFailedError);
    expect(error.providerCode).toBe("aborted");
    expect((await store.get("guide-1"))?.status).toBe("revoked");
  });

  it("every try is an event with its duration; the delivered one carries the provider's message id", async () => {
    const clock = new FakeClock(T0);
    const outbox = new OutboxNotifier();
    const slowFail: Notifier = {
      send: async () => {
        clock.advance(700);
        throw new DeliveryFailedError("no", { providerCode: "30003" });
      },
    };
    const slowOk: Notifier = {
      send: async (m) => {
        clock.advance(250);
        return outbox.send(m);
      },
    };
    const { tokens, events } = service({ sms: slowFail, email: slowOk }, clock);
    const issued = await tokens.issue({ guide: guide(), beneficiary: adult() });
    expect(issued).toMatchObject({ status: "sent", channel: "email", providerMessageId: "outbox-1" });
    const tries = events.filter((e) => e.type === "token.delivered" || e.type === "token.delivery_failed");
    expect(tries.map((e) => [e.type, e.durationMs, e.providerMessageId])).toEqual([
      ["token.delivery_failed", 700, undefined],
      ["token.delivered", 250, "outbox-1"],
    ]);
    const started = events.find((e) => e.type === "token.delivery_started");
    expect(started).toMatchObject({ mode: "foreground", deadlineAtMs: T0 + 15_000 });
    expect(new Set(events.filter((e) => e.deliveryId).map((e) => e.deliveryId))).toEqual(
      new Set([issued.deliveryId]),
    );
    // No personal data unmasked in any event.
    expect(JSON.stringify(events)).not.toMatch(/99999-?0001|maria\.teste/);
  });

  it("refuses a deadline out of range", async () => {
    const { tokens } = service(new OutboxNotifier());
    for (const deadlineMs of [0, -1, 1.5, 600_001]) {
      await expect(tokens.issue({ guide: guide(), beneficiary: adult(), deadlineMs })).rejects.toMatchObject({
        code: "INVALID_ARGUMENT",
      });
    }
  });
});

describe("a hanging gateway on loopback (real timers, loose bound)", () => {
  it("issue settles soon after a 2 s deadline although the notifier's own budget is 8 s", async () => {
    const sockets: Socket[] = [];
    const server = createServer((socket) => {
      sockets.push(socket); // accepts, reads, never answers
      socket.on("error", () => {});
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    const { port } = server.address() as { port: number };
    try {
      const sms = new HttpSmsNotifier({
        provider: genericSms({
          url: `http://127.0.0.1:${port}/send`,
          body: ({ to, text }) => ({ to, text }),
        }),
      });
      const { tokens, events } = service({ sms }, { now: () => Date.now() } as FakeClock);
      const started = performance.now();
      const error = await tokens
        .issue({ guide: guide(), beneficiary: adult(), deadlineMs: 2_000 })
        .catch((e: unknown) => e);
      const elapsed = performance.now() - started;
      expect(error).toBeInstanceOf(DeliveryFailedError);
      expect(sockets.length).toBeGreaterThanOrEqual(1);
      // Loose: without the deadline the notifier alone would take up to 8 s; with it, about 2 s.
      expect(elapsed).toBeLessThan(2_000 + 3_000);
      const failed = events.find((e) => e.type === "token.delivery_failed");
      expect(failed?.reason).toBe("delivery_failed:deadline");
      expect(failed?.durationMs).toBeGreaterThanOrEqual(1_900);
    } finally {
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    }
  });
});
