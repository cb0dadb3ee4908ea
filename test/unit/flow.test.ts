import { describe, expect, it } from "vitest";
import {
  createGuide,
  createTokenService,
  type Guide,
  GuideTransitionError,
  MemoryTokenStore,
  toTissStatus,
  toTissValidation,
  transition,
  type VerificationReceipt,
} from "../../src/index.js";
import { FakeClock, OutboxNotifier } from "../../src/testing/index.js";

const DAY = 86_400_000;
const beneficiary = {
  id: "BEN-FLOW-1",
  birthDate: "1979-08-01",
  contacts: [{ id: "s1", channel: "sms" as const, address: "(41) 98888-0002" }],
};

function setup() {
  const clock = new FakeClock(Date.UTC(2026, 10, 23, 13, 0, 0)); // 10:00 in São Paulo
  const outbox = new OutboxNotifier();
  const tokens = createTokenService({
    store: new MemoryTokenStore(),
    notifier: outbox,
    pepper: "kQ7vZ2xR9mT4wL8pB3nY6cF1hJ5sD0gA7eU2iO9qWzM=",
    clock,
  });
  const guide = (id: string, provider = "PRV-9") =>
    createGuide({
      id,
      type: "sp_sadt",
      character: "eletiva",
      beneficiary: { cardNumber: "0099000011112222" },
      provider: {
        code: provider,
        professional: { council: "CRM", number: "54321", uf: "SP", cbo: "225125" },
      },
      procedures: [{ tuss: "40304361", quantity: 1 }],
    });
  const authorize = (g: Guide, validUntil = "2026-11-30") =>
    transition(g, { type: "authorize", senha: "EX20260099", validUntil }, { nowMs: clock.now() });
  const issueAndVerify = async (g: Guide): Promise<VerificationReceipt> => {
    await tokens.issue({ guide: { id: g.id, providerId: g.provider.code }, beneficiary });
    const code = outbox.lastCodeFor(beneficiary.id)!;
    const result = await tokens.verify({ guideId: g.id, providerId: g.provider.code, code });
    if (!result.ok) throw new Error(`verification failed: ${result.reason}`);
    return result.receipt;
  };
  return { clock, outbox, tokens, guide, authorize, issueAndVerify };
}

describe("a guide confirmed by a token, end to end on the memory store", () => {
  it("create → authorize → issue → verify → confirm → bill → pay", async () => {
    const { clock, guide, authorize, issueAndVerify } = setup();
    let g = authorize(guide("G-FLOW-1"));
    expect(toTissStatus(g)).toBe("1");
    const receipt = await issueAndVerify(g);
    g = transition(g, { type: "confirm", receipt }, { nowMs: clock.now() });
    expect(g.state).toBe("confirmed");
    expect(toTissValidation(g)).toEqual({ codValidacao: receipt.code });
    clock.advance(10 * DAY);
    g = transition(g, { type: "bill", batchId: "L-2026-11" }, { nowMs: clock.now() });
    g = transition(g, { type: "pay" }, { nowMs: clock.now() });
    expect(g.state).toBe("paid");
    expect(g.history.map((h) => h.to)).toEqual(["authorized", "confirmed", "billed", "paid"]);
    expect(JSON.parse(JSON.stringify(g))).toEqual(g);
  });

  it("refuses a receipt for another guide or another provider", async () => {
    const { clock, guide, authorize, issueAndVerify } = setup();
    const mine = authorize(guide("G-FLOW-2"));
    const otherGuide = authorize(guide("G-FLOW-3"));
    const receiptForOther = await issueAndVerify(otherGuide);
    expect(() =>
      transition(mine, { type: "confirm", receipt: receiptForOther }, { nowMs: clock.now() }),
    ).toThrow(GuideTransitionError);
    const otherProvider = authorize(guide("G-FLOW-2", "PRV-OTHER"));
    const receiptOtherProvider = await issueAndVerify(otherProvider);
    try {
      transition(mine, { type: "confirm", receipt: receiptOtherProvider }, { nowMs: clock.now() });
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(GuideTransitionError);
      expect((error as GuideTransitionError).reason).toBe("receipt_mismatch");
    }
  });

  it("an expired senha blocks confirmation even with a valid receipt", async () => {
    const { clock, guide, authorize, issueAndVerify } = setup();
    const g = authorize(guide("G-FLOW-4"), "2026-11-23"); // valid through today, São Paulo time
    clock.set(Date.UTC(2026, 10, 24, 2, 50, 0)); // 23:50 in São Paulo: still valid
    const receipt = await issueAndVerify(g);
    clock.set(Date.UTC(2026, 10, 24, 3, 0, 0)); // midnight in São Paulo: the senha has expired
    try {
      transition(g, { type: "confirm", receipt }, { nowMs: clock.now() });
      expect.unreachable();
    } catch (error) {
      expect((error as GuideTransitionError).reason).toBe("senha_expired");
    }
  });
});
