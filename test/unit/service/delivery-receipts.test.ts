/**
 * applyDeliveryReport: a report becomes a token.delivery_status event; a replay, a report about no current token
 * and a malformed report change nothing; a `failed` report hands the same code to the next fallback contact.
 */
import { describe, expect, it } from "vitest";
import { MemoryTokenStore } from "../../../src/adapters/memory.js";
import { ReceiptRejectedError } from "../../../src/errors.js";
import type { DeliveryReport } from "../../../src/ports/delivery-report.js";
import type { TokenEvent } from "../../../src/ports/events.js";
import type { DeliveryReceipt, Notifier, SendOptions, TokenMessage } from "../../../src/ports/notifier.js";
import { decodeReference, encodeReference } from "../../../src/service/delivery-run.js";
import { createTokenService, type TokenServiceOptions } from "../../../src/service/token-service.js";
import { FakeClock, seededRandom } from "../../../src/testing/fakes.js";
import { adult, guide, MIN, PEPPER, T0 } from "./helpers.js";

/** Records every message and the reference it was sent with; answers with a provider-like id. */
class ReferenceOutbox implements Notifier {
  readonly sent: { message: TokenMessage; reference: string | undefined; id: string }[] = [];
  async send(message: TokenMessage, options?: SendOptions): Promise<DeliveryReceipt> {
    const id = `${message.channel}-msg-${this.sent.length + 1}`;
    this.sent.push({ message, reference: options?.reference, id });
    return { channel: message.channel, providerMessageId: id };
  }
}

function service(over: Partial<TokenServiceOptions> = {}) {
  const outbox = new ReferenceOutbox();
  const events: TokenEvent[] = [];
  const clock = new FakeClock(T0);
  const store = new MemoryTokenStore();
  const tokens = createTokenService({
    store,
    notifier: outbox,
    pepper: PEPPER,
    clock,
    random: seededRandom(5),
    onEvent: (e) => {
      events.push(e);
    },
    ...over,
  });
  return { tokens, outbox, events, clock, store };
}

const report = (sent: { reference: string | undefined; id: string }, over: Partial<DeliveryReport> = {}) =>
  ({
    provider: "twilio",
    providerMessageId: sent.id,
    status: "delivered",
    dedupeKey: `${sent.id}:${over.status ?? "delivered"}`,
    ...(sent.reference ? { reference: sent.reference } : {}),
    ...over,
  }) satisfies DeliveryReport;

async function until(check: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !check(); i++) await new Promise((r) => setTimeout(r, 2));
  expect(check()).toBe(true);
}

describe("references", () => {
  it("round-trip the token and the guide, and refuse anything else", () => {
    const ref = encodeReference("AbC_-1", "guia/ção 42");
    expect(decodeReference(ref)).toEqual({ tokenId: "AbC_-1", guideId: "guia/ção 42" });
    for (const bad of [
      "",
      "ht1",
      "ht2.a.Zw",
      "ht1..Zw",
      "ht1.a.",
      "ht1.a.Zw.x",
      "ht1.a!.Zw",
      "ht1.a.*",
      "x".repeat(600),
    ]) {
      expect(decodeReference(bad)).toBeUndefined();
    }
  });
});

describe("applyDeliveryReport", () => {
  it("records delivered and read; the status shows the latest receipt; the result and event carry the message id", async () => {
    const { tokens, outbox, events } = service();
    const issued = await tokens.issue({ guide: guide(), beneficiary: adult() });
    const sent = outbox.sent[0]!;
    expect(sent.reference).toBe(encodeReference(issued.tokenId, "guide-1"));
    expect(issued.providerMessageId).toBe(sent.id);
    expect(await tokens.applyDeliveryReport(report(sent))).toEqual({
      guideId: "guide-1",
      tokenId: issued.tokenId,
      status: "delivered",
    });
    await tokens.applyDeliveryReport(report(sent, { status: "read", dedupeKey: `${sent.id}:read` }));
    expect(await tokens.deliveryStatus("guide-1")).toMatchObject({ state: "sent", receipt: "read" });
    const statuses = events.filter((e) => e.type === "token.delivery_status");
    expect(statuses.map((e) => [e.deliveryStatus, e.providerMessageId, e.provider])).toEqual([
      ["delivered", sent.id, "twilio"],
      ["read", sent.id, "twilio"],
    ]);
  });

  it("a replay, a report about an older token or no reference, and a malformed report change nothing", async () => {
    const { tokens, outbox, events } = service();
    await tokens.issue({ guide: guide(), beneficiary: adult() });
    const sent = outbox.sent[0]!;
    await tokens.applyDeliveryReport(report(sent));
    const count = events.length;
    const reasons: string[] = [];
    const attempts: [DeliveryReport, { guideId?: string }?][] = [
      [report(sent)], // replay
      [report({ id: sent.id, reference: undefined }, { dedupeKey: "x1" })], // nowhere to route it
      [report({ id: sent.id, reference: encodeReference("another-token", "guide-1") }, { dedupeKey: "x2" })],
      [report({ id: sent.id, reference: encodeReference("t", "no-such-guide") }, { dedupeKey: "x3" })],
      [{ ...report(sent), status: "bounced" as never, dedupeKey: "x4" }],
      [{ ...report(sent), provider: "Twilio Inc", dedupeKey: "x5" }],
      [{ ...report(sent), dedupeKey: "" }],
      [null as never],
    ];
    for (const [r, o] of attempts) {
      const error = await tokens.applyDeliveryReport(r, o).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ReceiptRejectedError);
      reasons.push((error as ReceiptRejectedError).reason);
    }
    expect(reasons).toEqual([
      "replayed",
      "unknown_token",
      "unknown_token",
      "unknown_token",
      "malformed",
      "malformed",
      "malformed",
      "malformed",
    ]);
    expect(events.length).toBe(count);
    // Without a reference the caller may route it by guide.
    expect(
      (
        await tokens.applyDeliveryReport(report({ id: sent.id, reference: undefined }, { dedupeKey: "x6" }), {
          guideId: "guide-1",
        })
      ).status,
    ).toBe("delivered");
  });

  it("a failed receipt sends the same code to the next fallback contact; the status follows it", async () => {
    const { tokens, outbox } = service();
    const issued = await tokens.issue({ guide: guide(), beneficiary: adult() });
    const first = outbox.sent[0]!;
    expect(first.message.channel).toBe("sms");
    const result = await tokens.applyDeliveryReport(
      report(first, { status: "failed", providerCode: "30003", dedupeKey: `${first.id}:failed` }),
    );
    expect(result.fallback).toMatchObject({ outcome: "started", channel: "email" });
    await until(() => outbox.sent.length === 2);
    expect(outbox.sent[1]!.message.channel).toBe("email");
    expect(outbox.sent[1]!.message.code).toBe(first.message.code);
    await until(() => true);
    const status = await tokens.deliveryStatus("guide-1");
    expect(status).toMatchObject({ state: "sent", channel: "email", tokenId: issued.tokenId });
    // The code still verifies once.
    expect(
      (await tokens.verify({ guideId: "guide-1", providerId: "prov-1", code: first.message.code })).ok,
    ).toBe(true);
    // Now the token is consumed: a failed report about the second message falls back no further.
    const second = outbox.sent[1]!;
    const late = await tokens.applyDeliveryReport(
      report(second, { status: "failed", dedupeKey: `${second.id}:failed` }),
    );
    expect(late.fallback).toEqual({ outcome: "inactive" });
  });

  it("without a next contact, with fallback disabled, past the token's life, or about an older message: no fallback", async () => {
    {
      const { tokens, outbox } = service({ delivery: { fallbackOnFailedReceipt: false } });
      await tokens.issue({ guide: guide(), beneficiary: adult() });
      const r = await tokens.applyDeliveryReport(
        report(outbox.sent[0]!, { status: "failed", dedupeKey: "f1" }),
      );
      expect(r.fallback).toEqual({ outcome: "disabled" });
      expect(await tokens.deliveryStatus("guide-1")).toMatchObject({
        state: "failed",
        reason: "receipt_failed",
        nextStep: "choose_another_contact",
      });
    }
    {
      const { tokens, outbox } = service({ policy: { fallback: false } });
      await tokens.issue({ guide: guide(), beneficiary: adult() });
      const r = await tokens.applyDeliveryReport(
        report(outbox.sent[0]!, { status: "failed", dedupeKey: "f2" }),
      );
      expect(r.fallback).toEqual({ outcome: "unavailable" });
    }
    {
      const { tokens, outbox, clock } = service();
      await tokens.issue({ guide: guide(), beneficiary: adult() });
      clock.advance(30 * MIN);
      const r = await tokens.applyDeliveryReport(
        report(outbox.sent[0]!, { status: "failed", dedupeKey: "f3" }),
      );
      expect(r.fallback).toEqual({ outcome: "inactive" });
      expect(outbox.sent).toHaveLength(1);
    }
    {
      const { tokens, outbox } = service();
      await tokens.issue({ guide: guide(), beneficiary: adult() });
      const sent = outbox.sent[0]!;
      const r = await tokens.applyDeliveryReport(
        report({ ...sent, id: "an-older-message" }, { status: "failed", dedupeKey: "f4" }),
      );
      expect(r.fallback).toEqual({ outcome: "not_current" });
    }
    {
      // Another process (or after a restart) does not hold the code: recorded, no fallback.
      const first = service();
      await first.tokens.issue({ guide: guide(), beneficiary: adult() });
      const other = createTokenService({
        store: first.store,
        notifier: first.outbox,
        pepper: PEPPER,
        clock: first.clock,
      });
      const r = await other.applyDeliveryReport(
        report(first.outbox.sent[0]!, { status: "failed", dedupeKey: "f5" }),
      );
      expect(r.fallback).toEqual({ outcome: "unavailable" });
    }
  });
});
