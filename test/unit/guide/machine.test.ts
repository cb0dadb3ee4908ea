import { describe, expect, it } from "vitest";
import { ConfigError, GuideTransitionError, InvalidArgumentError } from "../../../src/errors.js";
import {
  availableEvents,
  createGuide,
  expireIfDue,
  type Guide,
  type GuideEvent,
  transition,
} from "../../../src/guide/index.js";
import {
  authorizeEvent,
  BILLING_END_MS,
  DAY,
  deepFreeze,
  guideIn,
  HOUR,
  input,
  receiptFor,
  SAMPLE_CPF,
  SENHA_END_MS,
  T0,
} from "./_fixtures.js";

function refusal(fn: () => unknown): GuideTransitionError {
  try {
    fn();
  } catch (error) {
    if (error instanceof GuideTransitionError) return error;
    throw error;
  }
  throw new Error("expected a GuideTransitionError");
}

function invalid(fn: () => unknown): InvalidArgumentError {
  try {
    fn();
  } catch (error) {
    if (error instanceof InvalidArgumentError) return error;
    throw error;
  }
  throw new Error("expected an InvalidArgumentError");
}

describe("createGuide", () => {
  it("creates a requested guide with an empty history, as plain JSON", () => {
    const g = createGuide(input());
    expect(g.state).toBe("requested");
    expect(g.history).toEqual([]);
    expect(JSON.parse(JSON.stringify(g))).toStrictEqual(g);
  });

  it("keeps a punctuated CPF as its 11 digits and leaves out absent optional fields", () => {
    const punctuated = `${SAMPLE_CPF.slice(0, 3)}.${SAMPLE_CPF.slice(3, 6)}.${SAMPLE_CPF.slice(6, 9)}-${SAMPLE_CPF.slice(9)}`;
    const g = createGuide(input({ beneficiary: { cardNumber: "0064", cpf: punctuated } }));
    expect(g.beneficiary).toStrictEqual({ cardNumber: "0064", cpf: SAMPLE_CPF });
    const bare = createGuide(input({ beneficiary: { cardNumber: "0064" }, provider: { code: "P1" } }));
    expect(Object.keys(bare.beneficiary)).toEqual(["cardNumber"]);
    expect(Object.keys(bare.provider)).toEqual(["code"]);
  });

  it("lists every bad field, without echoing the values", () => {
    const badCpf = `${SAMPLE_CPF.slice(0, 10)}${(Number(SAMPLE_CPF[10]) + 1) % 10}`;
    const e = invalid(() =>
      createGuide({
        id: "G-1",
        type: "laboratorio",
        character: "eletiva",
        beneficiary: { cardNumber: "1".repeat(21), cpf: badCpf },
        provider: {
          code: "X".repeat(15),
          professional: { council: "CRM", number: "99999", uf: "XX", cbo: "22512" },
        },
        procedures: [{ tuss: "4030436", quantity: 0 }],
        notes: "hi",
      } as never),
    );
    expect(e.code).toBe("INVALID_ARGUMENT");
    expect(e.issues.map((i) => i.path)).toEqual([
      "type",
      "beneficiary.cardNumber",
      "beneficiary.cpf",
      "provider.code",
      "provider.professional.uf",
      "provider.professional.cbo",
      "procedures.0.quantity",
      "procedures.0.tuss",
      "notes",
    ]);
    const everything = e.message + JSON.stringify(e.issues);
    expect(everything).not.toContain(badCpf);
    expect(everything).not.toContain("1".repeat(21));
  });

  it("accepts the limits exactly and refuses one past them", () => {
    expect(() => createGuide(input({ beneficiary: { cardNumber: "1".repeat(20) } }))).not.toThrow();
    expect(() => createGuide(input({ provider: { code: "X".repeat(14) } }))).not.toThrow();
    expect(() => createGuide(input({ procedures: [] }))).toThrow(InvalidArgumentError);
    expect(() => createGuide(input({ procedures: [{ tuss: "40304361", quantity: 1.5 }] }))).toThrow(
      InvalidArgumentError,
    );
  });
});

describe("transition: time", () => {
  it("requires nowMs (the core never reads a clock)", () => {
    const g = createGuide(input());
    const e = invalid(() => transition(g, { type: "start_review" }, undefined as never));
    expect(e.issues[0]?.path).toBe("nowMs");
    expect(() => transition(g, { type: "start_review" }, {} as never)).toThrow(InvalidArgumentError);
    expect(() => transition(g, { type: "start_review" }, { nowMs: -1 })).toThrow(InvalidArgumentError);
    expect(() => transition(g, { type: "start_review" }, { nowMs: 1.5 })).toThrow(InvalidArgumentError);
    expect(() => transition(g, { type: "start_review" }, { nowMs: Number.NaN })).toThrow(
      InvalidArgumentError,
    );
  });

  it("confirms 1 ms before the end of the validity day (São Paulo) and refuses at exactly the end", () => {
    const g = guideIn("authorized");
    const ok = transition(g, { type: "confirm", receipt: receiptFor(g) }, { nowMs: SENHA_END_MS - 1 });
    expect(ok.state).toBe("confirmed");
    const e = refusal(() =>
      transition(g, { type: "confirm", receipt: receiptFor(g) }, { nowMs: SENHA_END_MS }),
    );
    expect(e.reason).toBe("senha_expired");
    expect(e.state).toBe("authorized");
  });

  it("reads validUntil as a São Paulo day: 23:59 local on that day is still valid, 00:00 the next is not", () => {
    // 2026-11-30T23:59:59.999-03:00 is 2026-12-01T02:59:59.999Z.
    expect(SENHA_END_MS - 1).toBe(Date.parse("2026-11-30T23:59:59.999-03:00"));
    expect(SENHA_END_MS).toBe(Date.parse("2026-12-01T00:00:00.000-03:00"));
  });

  it("refuses an authorization whose validity already ended", () => {
    const g = createGuide(input());
    const e = refusal(() =>
      transition(g, { type: "authorize", senha: "S1", validUntil: "2026-11-22" }, { nowMs: T0 }),
    );
    expect(e.reason).toBe("validity_in_past");
    expect(
      transition(g, { type: "authorize", senha: "S1", validUntil: "2026-11-23" }, { nowMs: T0 }).state,
    ).toBe("authorized");
  });

  it("bills 1 ms before the end of the 90th day after confirmation, not at the end", () => {
    const g = guideIn("confirmed");
    expect(transition(g, { type: "bill", batchId: "L1" }, { nowMs: BILLING_END_MS - 1 }).state).toBe(
      "billed",
    );
    expect(
      refusal(() => transition(g, { type: "bill", batchId: "L1" }, { nowMs: BILLING_END_MS })).reason,
    ).toBe("billing_window_passed");
  });

  it("takes the billing window from the policy", () => {
    const g = guideIn("confirmed"); // confirmed 2026-11-23; 1 day: billable through 2026-11-24 (São Paulo)
    const end = Date.parse("2026-11-25T00:00:00-03:00");
    const policy = { billingWindowDays: 1 };
    expect(transition(g, { type: "bill", batchId: "L1" }, { nowMs: end - 1, policy }).state).toBe("billed");
    expect(() => transition(g, { type: "bill", batchId: "L1" }, { nowMs: end, policy })).toThrow(
      GuideTransitionError,
    );
    expect(expireIfDue(g, end, { policy }).state).toBe("expired");
  });

  it("refuses an invalid policy with ConfigError", () => {
    const g = guideIn("confirmed");
    for (const policy of [
      { billingWindowDays: 0 },
      { billingWindowDays: 1.5 },
      { returnWindowDays: -1 },
      { x: 1 },
    ]) {
      expect(() =>
        transition(g, { type: "bill", batchId: "L1" }, { nowMs: T0, policy: policy as never }),
      ).toThrow(ConfigError);
    }
  });
});

describe("expireIfDue", () => {
  it("returns the very same guide when nothing is due, and expires at exactly the end", () => {
    const authorized = guideIn("authorized");
    expect(expireIfDue(authorized, SENHA_END_MS - 1)).toBe(authorized);
    const expired = expireIfDue(authorized, SENHA_END_MS);
    expect(expired.state).toBe("expired");
    expect(expired.history.at(-1)).toEqual({
      from: "authorized",
      to: "expired",
      event: "expire",
      atMs: SENHA_END_MS,
    });

    const confirmed = guideIn("confirmed");
    expect(expireIfDue(confirmed, BILLING_END_MS - 1)).toBe(confirmed);
    expect(expireIfDue(confirmed, BILLING_END_MS).state).toBe("expired");
  });

  it("never expires a guide whose state has no deadline", () => {
    for (const state of ["requested", "under_review", "billed", "paid", "disallowed", "denied"] as const) {
      const g = guideIn(state);
      expect(expireIfDue(g, T0 + 3650 * DAY)).toBe(g);
    }
  });

  it("an explicit expire before the deadline is refused as not_due", () => {
    const g = guideIn("partially_authorized");
    expect(refusal(() => transition(g, { type: "expire" }, { nowMs: SENHA_END_MS - 1 })).reason).toBe(
      "not_due",
    );
  });
});

describe("confirm", () => {
  it("stores the receipt's code and toTissValidation-ready fields", () => {
    const g = guideIn("authorized");
    const r = receiptFor(g, { code: "731904", mode: "app", verifiedAtMs: T0 + HOUR });
    const c = transition(g, { type: "confirm", receipt: r }, { nowMs: T0 + 2 * HOUR });
    expect(c.confirmation).toStrictEqual({
      kind: "token",
      atMs: T0 + 2 * HOUR,
      codValidacao: "731904",
      tokenId: r.tokenId,
      beneficiaryId: r.beneficiaryId,
      verifiedAtMs: T0 + HOUR,
      mode: "app",
    });
  });

  it("refuses a receipt for another guide or another provider, never ignoring it", () => {
    const g = guideIn("authorized");
    const other = refusal(() =>
      transition(g, { type: "confirm", receipt: receiptFor(g, { guideId: "G-OTHER" }) }, { nowMs: T0 }),
    );
    expect(other.reason).toBe("receipt_mismatch");
    const provider = refusal(() =>
      transition(g, { type: "confirm", receipt: receiptFor(g, { providerId: "PR-999" }) }, { nowMs: T0 }),
    );
    expect(provider.reason).toBe("receipt_mismatch");
    // Not even a prefix or different case passes.
    expect(() =>
      transition(
        g,
        { type: "confirm", receipt: receiptFor(g, { guideId: g.id.toLowerCase() }) },
        { nowMs: T0 },
      ),
    ).toThrow(GuideTransitionError);
  });

  it("accepts a TISS table 74 absence reason with a justification", () => {
    const g = guideIn("partially_authorized");
    const c = transition(
      g,
      { type: "confirm", absence: { reason: "07", justification: "beneficiário sem celular" } },
      { nowMs: T0 },
    );
    expect(c.confirmation).toStrictEqual({
      kind: "absence",
      atMs: T0,
      reason: "07",
      justification: "beneficiário sem celular",
    });
  });

  it("refuses confirmation without proof, with both proofs, or with a reason outside 01–07", () => {
    const g = guideIn("authorized");
    expect(refusal(() => transition(g, { type: "confirm" }, { nowMs: T0 })).reason).toBe("proof_required");
    const both = invalid(() =>
      transition(
        g,
        { type: "confirm", receipt: receiptFor(g), absence: { reason: "01", justification: "x" } },
        { nowMs: T0 },
      ),
    );
    expect(both.issues[0]?.path).toBe("event.absence");
    for (const reason of ["00", "08", "7", "1"]) {
      expect(() =>
        transition(g, { type: "confirm", absence: { reason, justification: "x" } } as never, { nowMs: T0 }),
      ).toThrow(InvalidArgumentError);
    }
    expect(() =>
      transition(g, { type: "confirm", absence: { reason: "04", justification: "   " } }, { nowMs: T0 }),
    ).toThrow(InvalidArgumentError);
  });

  it("a honorários guide confirms without proof and refuses proof", () => {
    const g = guideIn("authorized", "honorarios");
    const c = transition(g, { type: "confirm" }, { nowMs: T0 });
    expect(c.confirmation).toStrictEqual({ kind: "not_required", atMs: T0 });
    expect(
      refusal(() => transition(g, { type: "confirm", receipt: receiptFor(g) }, { nowMs: T0 })).reason,
    ).toBe("proof_not_applicable");
  });

  it("refuses a receipt code longer than codValidacao's 10 characters", () => {
    const g = guideIn("authorized");
    expect(() =>
      transition(g, { type: "confirm", receipt: receiptFor(g, { code: "12345678901" }) }, { nowMs: T0 }),
    ).toThrow(InvalidArgumentError);
  });
});

describe("purity and data", () => {
  it("never mutates a deep-frozen input and shares nothing mutable with it", () => {
    const g = deepFreeze(guideIn("authorized"));
    const before = JSON.stringify(g);
    const next = transition(g, { type: "confirm", receipt: receiptFor(g) }, { nowMs: T0 }) as unknown as {
      procedures: { quantity: number }[];
      history: unknown[];
    };
    expect(JSON.stringify(g)).toBe(before);
    next.procedures[0]!.quantity = 99;
    next.history.push({});
    expect(JSON.stringify(g)).toBe(before);
  });

  it("takes a guide that went through JSON and gives the same result", () => {
    const g = guideIn("confirmed");
    const fromJson = JSON.parse(JSON.stringify(g)) as Guide;
    const bill: GuideEvent = { type: "bill", batchId: "L1" };
    expect(transition(fromJson, bill, { nowMs: T0 + DAY })).toStrictEqual(
      transition(g, bill, { nowMs: T0 + DAY }),
    );
  });

  it("refuses a tampered guide instead of trusting its state", () => {
    const g = guideIn("authorized");
    const forged = {
      ...g,
      state: "confirmed",
      history: [...g.history, { ...g.history[0]!, to: "confirmed" }],
    };
    const e = invalid(() => transition(forged as Guide, { type: "bill", batchId: "L1" }, { nowMs: T0 }));
    expect(e.issues.map((i) => i.path)).toContain("guide.confirmation");
    expect(() => transition({ ...g, state: "nope" } as never, { type: "cancel" }, { nowMs: T0 })).toThrow(
      InvalidArgumentError,
    );
  });

  it("refuses unknown event fields and unknown event types", () => {
    const g = guideIn("requested");
    const e = invalid(() => transition(g, { type: "cancel", why: "x" } as never, { nowMs: T0 }));
    expect(e.issues).toEqual([{ path: "event.why", message: "unknown field" }]);
    expect(() => transition(g, { type: "teleport" } as never, { nowMs: T0 })).toThrow(InvalidArgumentError);
    expect(() =>
      transition(g, { type: "authorize", senha: "S".repeat(21), validUntil: "2026-12-01" }, { nowMs: T0 }),
    ).toThrow(InvalidArgumentError);
    for (const validUntil of ["2026-02-30", "2026-13-01", "30/11/2026", "2026-11-30T00:00"]) {
      expect(() => transition(g, { type: "authorize", senha: "S1", validUntil }, { nowMs: T0 })).toThrow(
        InvalidArgumentError,
      );
    }
  });

  it("records every step in the history, in order", () => {
    const g0 = createGuide(input());
    const g1 = transition(g0, { type: "request_documents" }, { nowMs: T0 });
    const g2 = transition(g1, { type: "start_review" }, { nowMs: T0 + HOUR });
    const g3 = transition(g2, authorizeEvent(), { nowMs: T0 + 2 * HOUR });
    const g4 = transition(g3, { type: "confirm", receipt: receiptFor(g3) }, { nowMs: T0 + 3 * HOUR });
    const g5 = transition(g4, { type: "bill", batchId: "L9" }, { nowMs: T0 + 10 * DAY });
    const g6 = transition(g5, { type: "disallow", glosas: ["3156"] }, { nowMs: T0 + 40 * DAY });
    const g7 = transition(g6, { type: "appeal" }, { nowMs: T0 + 41 * DAY });
    const g8 = transition(g7, { type: "pay" }, { nowMs: T0 + 60 * DAY });
    expect(g8.history.map((h) => `${h.from}>${h.event}>${h.to}`)).toEqual([
      "requested>request_documents>awaiting_documents",
      "awaiting_documents>start_review>under_review",
      "under_review>authorize>authorized",
      "authorized>confirm>confirmed",
      "confirmed>bill>billed",
      "billed>disallow>disallowed",
      "disallowed>appeal>appealed",
      "appealed>pay>paid",
    ]);
    expect(g8.billing).toStrictEqual({ batchId: "L9", atMs: T0 + 10 * DAY });
    expect(g8.disallowance).toStrictEqual({ glosas: ["3156"], atMs: T0 + 40 * DAY });
    expect(g8.appeal).toStrictEqual({ atMs: T0 + 41 * DAY });
    expect(g8.payment).toStrictEqual({ atMs: T0 + 60 * DAY });
  });

  it("availableEvents with a time leaves out what a time guard refuses", () => {
    const g = guideIn("authorized");
    expect(availableEvents(g, { nowMs: SENHA_END_MS - 1 })).toEqual(["cancel", "confirm"]);
    expect(availableEvents(g, { nowMs: SENHA_END_MS })).toEqual(["cancel", "expire"]);
    const c = guideIn("confirmed");
    expect(availableEvents(c, { nowMs: BILLING_END_MS - 1 })).toEqual(["cancel", "bill"]);
    expect(availableEvents(c, { nowMs: BILLING_END_MS })).toEqual(["cancel", "expire"]);
  });
});
