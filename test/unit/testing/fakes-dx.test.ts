/**
 * The fakes a clinic's test suite uses: the outbox keyed by guide as well as beneficiary, failed sends
 * recorded, `lastCodeFor` that throws a typed error, an event recorder that awaits `onEvent`, and a clock in
 * Brasília local time.
 */
import { describe, expect, it } from "vitest";
import { MemoryTokenStore } from "../../../src/adapters/memory.js";
import {
  DeliveryFailedError,
  InvalidArgumentError,
  isHealthTokenError,
  NothingSentError,
} from "../../../src/errors.js";
import { createTokenService } from "../../../src/service/token-service.js";
import { EventRecorder, FakeClock, OutboxNotifier, seededRandom } from "../../../src/testing/fakes.js";
import { adult, guide, PEPPER } from "../service/helpers.js";

function setup() {
  const clock = FakeClock.atBrasilia("2026-12-01T09:00");
  const outbox = new OutboxNotifier();
  const recorder = new EventRecorder();
  const tokens = createTokenService({
    store: new MemoryTokenStore(),
    notifier: outbox,
    pepper: PEPPER,
    clock,
    random: seededRandom(3),
    onEvent: recorder.onEvent,
  });
  return { clock, outbox, recorder, tokens };
}

describe("FakeClock.atBrasilia", () => {
  it("reads a Brasília local time as UTC−3, with or without seconds", () => {
    expect(FakeClock.atBrasilia("2026-12-01T09:00").now()).toBe(Date.UTC(2026, 11, 1, 12));
    expect(FakeClock.atBrasilia("2026-12-31T22:30:15").now()).toBe(Date.UTC(2027, 0, 1, 1, 30, 15));
  });

  it("refuses malformed and impossible times with InvalidArgumentError", () => {
    for (const bad of [
      "2026-02-30T09:00",
      "2026-12-01 09:00",
      "2026-12-01T24:00",
      "2026-12-01T09:60",
      "",
      5,
    ]) {
      expect(() => FakeClock.atBrasilia(bad as string)).toThrow(InvalidArgumentError);
    }
  });
});

describe("OutboxNotifier", () => {
  it("reads the code by guide as well as by beneficiary", async () => {
    const { outbox, tokens } = setup();
    await tokens.issue({ guide: guide("G-A"), beneficiary: adult("ben-1") });
    await tokens.issue({ guide: guide("G-B"), beneficiary: adult("ben-1") });
    const a = outbox.lastCodeForGuide("G-A");
    const b = outbox.lastCodeForGuide("G-B");
    expect(b).toBe(outbox.lastCodeFor("ben-1"));
    expect(outbox.messagesForGuide("G-A").map((m) => m.code)).toEqual([a]);
    await expect(tokens.verify({ guideId: "G-A", providerId: "prov-1", code: a })).resolves.toMatchObject({
      ok: true,
    });
  });

  it("lastCodeFor throws NothingSentError (a HealthTokenError) when nothing was sent", () => {
    const outbox = new OutboxNotifier();
    expect(() => outbox.lastCodeFor("nobody")).toThrow(NothingSentError);
    expect(() => outbox.lastCodeForGuide("G-none")).toThrow(/no code was sent for guide G-none/);
    const error = (() => {
      try {
        outbox.lastCodeFor("nobody");
      } catch (e) {
        return e;
      }
    })();
    expect(isHealthTokenError(error) && error.code).toBe("NOTHING_SENT");
  });

  it("records failed sends with their guide and error; the fallback's message is the one sent", async () => {
    const { outbox, tokens } = setup();
    outbox.failWith((m) =>
      m.channel === "sms" ? new DeliveryFailedError("sms down", { retryable: false }) : undefined,
    );
    const issued = await tokens.issue({ guide: guide("G-F"), beneficiary: adult("ben-2") });
    expect(issued.channel).toBe("email");
    expect(outbox.failedSends).toHaveLength(1);
    expect(outbox.failedSends[0]).toMatchObject({ guideId: "G-F", message: { channel: "sms" } });
    expect(outbox.failedSends[0]!.error).toBeInstanceOf(DeliveryFailedError);
    expect(outbox.messages.map((m) => m.channel)).toEqual(["email"]);
    outbox.clear();
    expect(outbox.failedSends).toHaveLength(0);
  });
});

describe("EventRecorder", () => {
  it("awaits an event still to come (a background delivery) and returns one already recorded", async () => {
    const { recorder, tokens } = setup();
    const pending = await tokens.issue({ guide: guide("G-W"), beneficiary: adult(), background: true });
    const delivered = await recorder.waitFor("token.delivered", { guideId: "G-W" });
    expect(delivered).toMatchObject({ guideId: "G-W", tokenId: pending.tokenId });
    await expect(recorder.waitFor("token.issued")).resolves.toMatchObject({ guideId: "G-W" });
    expect(recorder.types).toContain("token.delivery_started");
  });

  it("rejects with NothingSentError when the event does not come in time", async () => {
    const recorder = new EventRecorder();
    await expect(recorder.waitFor("token.verified", { timeoutMs: 5 })).rejects.toBeInstanceOf(
      NothingSentError,
    );
    await expect(recorder.waitFor("token.verified", { timeoutMs: 0 })).rejects.toBeInstanceOf(
      InvalidArgumentError,
    );
  });
});
