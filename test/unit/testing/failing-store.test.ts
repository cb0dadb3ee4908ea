import { describe, expect, it } from "vitest";
import { MemoryTokenStore } from "../../../src/adapters/memory.js";
import { StoreUnavailableError } from "../../../src/errors.js";
import { createTokenService } from "../../../src/service/token-service.js";
import { failingStore } from "../../../src/testing/failing-store.js";
import { FakeClock, OutboxNotifier } from "../../../src/testing/fakes.js";
import { testPepper } from "../../helpers/keys.js";

const beneficiary = {
  id: "B-1",
  birthDate: "1990-05-01",
  contacts: [{ id: "c1", channel: "sms" as const, address: "+5543999990001" }],
};

describe("failingStore", () => {
  it("fails the chosen operation exactly N times, then passes calls through", async () => {
    const clock = new FakeClock();
    const outbox = new OutboxNotifier();
    const store = failingStore(new MemoryTokenStore(), { attempt: 2 });
    const tokens = createTokenService({
      store,
      notifier: outbox,
      pepper: testPepper("failing-store"),
      clock,
    });
    await tokens.issue({ guide: { id: "G-1", providerId: "P-1" }, beneficiary });
    const code = outbox.lastCodeFor("B-1")!;
    const input = { guideId: "G-1", providerId: "P-1", code };
    await expect(tokens.verify(input)).rejects.toThrow(StoreUnavailableError);
    await expect(tokens.verify(input)).rejects.toThrow(StoreUnavailableError);
    expect(store.pending.attempt).toBe(0);
    expect((await tokens.verify(input)).ok).toBe(true);
  });

  it("failNext adds failures to any operation; the others are untouched", async () => {
    const store = failingStore(new MemoryTokenStore()).failNext("increment").failNext("increment");
    await expect(store.increment("k", 60_000, 0)).rejects.toThrow("increment told to fail");
    await expect(store.increment("k", 60_000, 0)).rejects.toThrow();
    expect(await store.peek("k", 0)).toEqual({ count: 0, resetAtMs: 0 });
    expect(await store.increment("k", 60_000, 0)).toEqual({ count: 1, resetAtMs: 60_000 });
  });
});
