/**
 * Background mode: `issue` returns once the token is saved; the delivery runs on; `deliveryStatus` answers
 * pending / sent / failed / unfinished; nothing escapes as an unhandled rejection.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MemoryTokenStore } from "../../../src/adapters/memory.js";
import { DeliveryFailedError } from "../../../src/errors.js";
import type { TokenEvent } from "../../../src/ports/events.js";
import type { DeliveryReceipt, Notifier, TokenMessage } from "../../../src/ports/notifier.js";
import { createTokenService, type TokenServiceOptions } from "../../../src/service/token-service.js";
import { FakeClock, OutboxNotifier, seededRandom } from "../../../src/testing/fakes.js";
import { adult, guide, PEPPER, T0 } from "./helpers.js";

const unhandled: unknown[] = [];
const onUnhandled = (reason: unknown) => {
  unhandled.push(reason);
};
beforeAll(() => {
  process.on("unhandledRejection", onUnhandled);
});
afterAll(() => {
  process.off("unhandledRejection", onUnhandled);
});

/** A notifier whose answer the test releases by hand. */
class ControlledNotifier implements Notifier {
  readonly calls: {
    message: TokenMessage;
    resolve: (r: DeliveryReceipt) => void;
    reject: (e: unknown) => void;
  }[] = [];
  send(message: TokenMessage): Promise<DeliveryReceipt> {
    return new Promise((resolve, reject) => this.calls.push({ message, resolve, reject }));
  }
}

function service(over: Partial<TokenServiceOptions> & { notifier: TokenServiceOptions["notifier"] }) {
  const events: TokenEvent[] = [];
  const clock = (over.clock as FakeClock | undefined) ?? new FakeClock(T0);
  const store = (over.store as MemoryTokenStore | undefined) ?? new MemoryTokenStore();
  const tokens = createTokenService({
    pepper: PEPPER,
    random: seededRandom(11),
    onEvent: (e) => {
      events.push(e);
    },
    ...over,
    store,
    clock,
  });
  return { tokens, events, store, clock };
}

const tick = () => new Promise((r) => setImmediate(r));
async function until(check: () => boolean | Promise<boolean>): Promise<void> {
  for (let i = 0; i < 400; i++) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 5));
  }
  throw new Error("condition not reached");
}

describe("background mode", () => {
  it("returns pending once saved; the status goes pending → sent with channel, masked contact and message id", async () => {
    const sms = new ControlledNotifier();
    const { tokens, events } = service({ notifier: { sms, email: new OutboxNotifier() } });
    const issued = await tokens.issue({ guide: guide(), beneficiary: adult(), background: true });
    expect(issued).toMatchObject({ status: "pending", guideId: "guide-1", deadlineAtMs: T0 + 60_000 });
    expect(events.map((e) => e.type)).toEqual(["token.issued", "token.delivery_started"]);
    expect(events[1]).toMatchObject({ mode: "background", deliveryId: issued.deliveryId });
    await until(() => sms.calls.length === 1);
    expect(await tokens.deliveryStatus("guide-1")).toMatchObject({ state: "pending", failedTries: 0 });
    sms.calls[0]!.resolve({ channel: "sms", providerMessageId: "SM-made-up-1" });
    await until(async () => (await tokens.deliveryStatus("guide-1")).state === "sent");
    expect(await tokens.deliveryStatus("guide-1")).toEqual({
      state: "sent",
      guideId: "guide-1",
      tokenId: issued.tokenId,
      tokenState: "active",
      deliveryId: issued.deliveryId,
      channel: "sms",
      maskedContact: "(43) 9****-0001",
      recipient: "beneficiary",
      providerMessageId: "SM-made-up-1",
      sentAtMs: T0,
      receipt: undefined,
    });
    expect(events.find((e) => e.type === "token.delivered")?.providerMessageId).toBe("SM-made-up-1");
  });

  it("falls back in the background; when every try fails the token is revoked and the status is failed", async () => {
    const outbox = new OutboxNotifier().failWith(
      () => new DeliveryFailedError("unreachable", { providerCode: "21211" }),
    );
    const { tokens, store } = service({ notifier: outbox });
    await tokens.issue({ guide: guide(), beneficiary: adult(), background: true });
    await until(async () => (await tokens.deliveryStatus("guide-1")).state === "failed");
    expect(await tokens.deliveryStatus("guide-1")).toMatchObject({
      state: "failed",
      tokenState: "revoked",
      reason: "delivery_failed:21211",
      nextStep: "choose_another_contact",
    });
    expect(outbox.sendCount).toBe(2);
    expect((await store.get("guide-1"))?.status).toBe("revoked");
  });

  it("survives a notifier that throws synchronously, rejects, hangs or answers late: no unhandled rejection", async () => {
    unhandled.length = 0;
    const throwsSync: Notifier = {
      send: () => {
        throw new Error("sync boom");
      },
    };
    const rejects: Notifier = { send: () => Promise.reject(new TypeError("async boom")) };
    const hangs: Notifier = { send: () => new Promise(() => {}) };
    let lateReject: ((e: unknown) => void) | undefined;
    const late: Notifier = {
      send: () =>
        new Promise((_, reject) => {
          lateReject = reject;
        }),
    };
    for (const [name, notifier, deadlineMs] of [
      ["sync", throwsSync, 1_000],
      ["reject", rejects, 1_000],
      ["hang", hangs, 30],
      ["late", late, 30],
    ] as const) {
      const { tokens } = service({ notifier, clock: { now: () => Date.now() } as FakeClock });
      const gid = `guide-${name}`;
      const issued = await tokens.issue({
        guide: guide(gid),
        beneficiary: adult(),
        background: true,
        deadlineMs,
      });
      expect(issued.status).toBe("pending");
      await until(async () => (await tokens.deliveryStatus(gid)).state === "failed");
    }
    // The late notifier answers (here: rejects) long after its run gave up.
    lateReject?.(new Error("too late"));
    await new Promise((r) => setTimeout(r, 20));
    expect(unhandled).toEqual([]);
  });

  it("a late success after the deadline does not resurrect the token", async () => {
    unhandled.length = 0;
    let lateResolve: ((r: DeliveryReceipt) => void) | undefined;
    const late: Notifier = {
      send: () =>
        new Promise((resolve) => {
          lateResolve = resolve;
        }),
    };
    const { tokens, store } = service({ notifier: late, clock: { now: () => Date.now() } as FakeClock });
    await tokens.issue({ guide: guide(), beneficiary: adult(), background: true, deadlineMs: 20 });
    await until(async () => (await tokens.deliveryStatus("guide-1")).state === "failed");
    lateResolve?.({ channel: "sms", providerMessageId: "late" });
    await tick();
    expect((await store.get("guide-1"))?.status).toBe("revoked");
    expect((await tokens.deliveryStatus("guide-1")).state).toBe("failed");
    expect(unhandled).toEqual([]);
  });

  it("a run the process never finished reads as unfinished after a restart (past its deadline), pending before", async () => {
    const store = new MemoryTokenStore();
    const clock = new FakeClock(T0);
    const before = service({ notifier: { send: () => new Promise(() => {}) }, store, clock });
    await before.tokens.issue({ guide: guide(), beneficiary: adult(), background: true, deadlineMs: 10_000 });
    // "Restart": a new service over the same store; the old process's run is gone with it.
    const after = service({ notifier: new OutboxNotifier(), store, clock });
    expect((await after.tokens.deliveryStatus("guide-1")).state).toBe("pending");
    clock.advance(10_000 + 5_000);
    expect(await after.tokens.deliveryStatus("guide-1")).toMatchObject({
      state: "unfinished",
      startedAtMs: T0,
      tokenState: "active",
      nextStep: "ask_then_issue_new_code",
    });
  });

  it("deliveryStatus: none for an unknown guide; a bad guide id is InvalidArgumentError", async () => {
    const { tokens } = service({ notifier: new OutboxNotifier() });
    expect(await tokens.deliveryStatus("nope")).toEqual({ state: "none", guideId: "nope" });
    await expect(tokens.deliveryStatus("")).rejects.toMatchObject({ code: "INVALID_ARGUMENT" });
  });

  it("a transient failure suggests retry_later", async () => {
    const outbox = new OutboxNotifier().failWith(
      () => new DeliveryFailedError("timeout", { providerCode: "timeout", retryable: true }),
    );
    const { tokens } = service({ notifier: outbox });
    await tokens.issue({ guide: guide(), beneficiary: adult(), background: true });
    await until(async () => (await tokens.deliveryStatus("guide-1")).state === "failed");
    expect(await tokens.deliveryStatus("guide-1")).toMatchObject({ nextStep: "retry_later" });
  });
});
