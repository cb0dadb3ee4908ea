/**
 * Model-based property tests: random sequences of events (well-formed, but often illegal or refused by a
 * guard) and clock moves, checked step by step against a small independent model of the machine.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { GuideTransitionError, InvalidArgumentError } from "../../../src/errors.js";
import {
  availableEvents,
  createGuide,
  GUIDE_EVENT_TYPES,
  type Guide,
  type GuideEvent,
  type GuideEventType,
  type GuideState,
  type GuideType,
  toTissValidation,
  transition,
} from "../../../src/guide/index.js";
import {
  DAY,
  deepFreeze,
  EXPECTED,
  eventFor,
  input,
  receiptFor,
  SAMPLE_CPF,
  T0,
  TERMINAL,
} from "./_fixtures.js";

const OFFSET = 3 * 3_600_000; // America/Sao_Paulo is UTC−03:00
const spDay = (ms: number) => Math.floor((ms - OFFSET) / DAY);
const endOfSpDay = (day: number) => (day + 1) * DAY + OFFSET;
const dateOfDay = (day: number) => new Date(day * DAY).toISOString().slice(0, 10);

interface Model {
  state: GuideState;
  senhaEndMs?: number;
  billingEndMs?: number;
}

type Action =
  | { kind: "tick"; ms: number }
  | {
      kind: "event";
      type: GuideEventType;
      /** See {@link steered}. */
      steer: number;
      pick: number;
      variant: number;
      days: number;
      partial: boolean;
    };

const FORWARD: readonly GuideEventType[] = [
  "authorize",
  "confirm",
  "bill",
  "pay",
  "disallow",
  "appeal",
  "expire",
];

/**
 * Steering, so that random runs reach the deep states: `steer` 0–3 picks a forward event the model allows
 * now, 4–5 any allowed event but deny and cancel, 6 any allowed event, 7–9 keeps the random type.
 */
function steered(m: Model, a: Extract<Action, { kind: "event" }>): Extract<Action, { kind: "event" }> {
  if (a.steer > 6) return a;
  const allowed = (Object.keys(EXPECTED[m.state]) as GuideEventType[]).filter((t) =>
    a.steer <= 3 ? FORWARD.includes(t) : a.steer === 6 || (t !== "deny" && t !== "cancel"),
  );
  return allowed.length === 0 ? a : { ...a, type: allowed[a.pick % allowed.length]! };
}

const actionArb: fc.Arbitrary<Action> = fc.oneof(
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant("tick" as const),
      ms: fc.oneof(fc.integer({ min: 0, max: DAY }), fc.integer({ min: 0, max: 40 * DAY })),
    }),
  },
  {
    weight: 4,
    arbitrary: fc.record({
      kind: fc.constant("event" as const),
      type: fc.constantFrom(...GUIDE_EVENT_TYPES),
      steer: fc.integer({ min: 0, max: 9 }),
      pick: fc.nat(),
      variant: fc.integer({ min: 0, max: 7 }),
      days: fc.integer({ min: -2, max: 10 }),
      partial: fc.boolean(),
    }),
  },
);

/**
 * The event an action stands for. confirm variants: 0 receipt, 1 other guide, 2 other provider, 3 absence,
 * 4 none, 5–7 receipt again (so that confirmations are frequent).
 */
function eventOf(g: Guide, a: Extract<Action, { kind: "event" }>, nowMs: number): GuideEvent {
  if (a.type === "authorize") {
    return {
      type: "authorize",
      senha: "S-1",
      validUntil: dateOfDay(spDay(nowMs) + a.days),
      partial: a.partial,
    };
  }
  if (a.type !== "confirm") return eventFor(g, a.type);
  switch (a.variant > 4 ? 0 : a.variant) {
    case 0:
      return { type: "confirm", receipt: receiptFor(g, { verifiedAtMs: nowMs }) };
    case 1:
      return { type: "confirm", receipt: receiptFor(g, { guideId: `${g.id}-X` }) };
    case 2:
      return { type: "confirm", receipt: receiptFor(g, { providerId: `${g.provider.code}X` }) };
    case 3:
      return { type: "confirm", absence: { reason: "07", justification: "não possui celular" } };
    default:
      return { type: "confirm" };
  }
}

/** What the model expects: the next state, or the reason of the refusal. */
function predict(
  m: Model,
  guideType: GuideType,
  a: Extract<Action, { kind: "event" }>,
  nowMs: number,
): { to: GuideState } | { reason: string } {
  const to = EXPECTED[m.state][a.type];
  if (!to) return { reason: TERMINAL.has(m.state) ? "terminal_state" : "illegal_event" };
  switch (a.type) {
    case "authorize":
      if (nowMs >= endOfSpDay(spDay(nowMs) + a.days)) return { reason: "validity_in_past" };
      return { to: a.partial ? "partially_authorized" : "authorized" };
    case "confirm":
      if (nowMs >= m.senhaEndMs!) return { reason: "senha_expired" };
      if (guideType === "honorarios") return a.variant === 4 ? { to } : { reason: "proof_not_applicable" };
      if (a.variant === 1 || a.variant === 2) return { reason: "receipt_mismatch" };
      if (a.variant === 4) return { reason: "proof_required" };
      return { to }; // 0, 3 and 5–7
    case "bill":
      return nowMs >= m.billingEndMs! ? { reason: "billing_window_passed" } : { to };
    case "expire": {
      const due = m.state === "confirmed" ? m.billingEndMs! : m.senhaEndMs!;
      return nowMs >= due ? { to } : { reason: "not_due" };
    }
    default:
      return { to };
  }
}

function checkInvariants(g: Guide) {
  // History is a chain from `requested` to the current state.
  let at: GuideState = "requested";
  for (const h of g.history) {
    expect(h.from).toBe(at);
    at = h.to;
  }
  expect(at).toBe(g.state);
  // Never billed without having been confirmed first.
  const billedAt = g.history.findIndex((h) => h.to === "billed");
  if (billedAt >= 0) expect(g.history.slice(0, billedAt).some((h) => h.to === "confirmed")).toBe(true);
  if (["billed", "paid", "disallowed", "appealed"].includes(g.state)) {
    expect(g.history.some((h) => h.to === "confirmed")).toBe(true);
  }
  // A confirmed guide has exactly one of codValidacao / ausenciaCodValidacao (none for honorários).
  if (["confirmed", "billed", "paid", "disallowed", "appealed"].includes(g.state)) {
    const v = toTissValidation(g);
    if (g.type === "honorarios") expect(v).toBeUndefined();
    else expect(Object.keys(v ?? {})).toHaveLength(1);
  }
  // JSON round trip is lossless.
  expect(JSON.parse(JSON.stringify(g))).toStrictEqual(g);
}

describe("guide machine, model-based", () => {
  it("follows the model through random events and clock moves", () => {
    fc.assert(
      fc.property(
        fc.constantFrom<GuideType>("consulta", "sp_sadt", "internacao", "odonto", "honorarios"),
        fc.integer({ min: 1, max: 120 }),
        fc.array(actionArb, { maxLength: 30 }),
        (type, billingWindowDays, actions) => {
          const policy = { billingWindowDays };
          let nowMs = T0;
          let g = createGuide(input({ type }));
          const m: Model = { state: "requested" };
          for (const action of actions) {
            if (action.kind === "tick") {
              nowMs += action.ms;
              continue;
            }
            const a = steered(m, action);
            // availableEvents agrees with the model (a canonical payload for each type).
            const expectedAvailable = GUIDE_EVENT_TYPES.filter((t) => {
              const canonical = {
                kind: "event" as const,
                type: t,
                steer: 9,
                pick: 0,
                variant: type === "honorarios" ? 4 : 0,
                days: 5,
                partial: false,
              };
              return "to" in predict(m, type, canonical, nowMs);
            });
            expect(availableEvents(g, { nowMs, policy })).toEqual(expectedAvailable);

            const input0 = deepFreeze(g);
            const snapshot = JSON.stringify(input0);
            const expected = predict(m, type, a, nowMs);
            let next: Guide | undefined;
            let error: unknown;
            try {
              next = transition(input0, eventOf(input0, a, nowMs), { nowMs, policy });
            } catch (e) {
              error = e;
            }
            expect(JSON.stringify(input0)).toBe(snapshot); // never mutates its input
            if ("to" in expected) {
              expect(error).toBeUndefined();
              expect(next!.state).toBe(expected.to);
              expect(next!.history.at(-1)).toEqual({
                from: m.state,
                to: expected.to,
                event: a.type,
                atMs: nowMs,
              });
              if (a.type === "authorize") m.senhaEndMs = endOfSpDay(spDay(nowMs) + a.days);
              if (a.type === "confirm") m.billingEndMs = endOfSpDay(spDay(nowMs) + billingWindowDays);
              m.state = expected.to;
              g = next!;
              checkInvariants(g);
            } else {
              expect(error).toBeInstanceOf(GuideTransitionError);
              expect((error as GuideTransitionError).reason).toBe(expected.reason);
              expect((error as GuideTransitionError).state).toBe(m.state);
            }
          }
        },
      ),
      { numRuns: 400 },
    );
  });
});

describe("hostile input", () => {
  it("refuses guide ids with a lone surrogate or a control character (stores would merge or refuse them)", () => {
    for (const id of ["G-\ud800", "G\u0000", "G\r\n1", "G\u007f"]) {
      expect(() => createGuide(input({ id }))).toThrow(InvalidArgumentError);
    }
    expect(createGuide(input({ id: "GUIA-ç-1" })).id).toBe("GUIA-ç-1");
  });

  it("createGuide throws only InvalidArgumentError, and never echoes a CPF", () => {
    fc.assert(
      fc.property(fc.anything(), (value) => {
        try {
          createGuide(value as never);
        } catch (e) {
          expect(e).toBeInstanceOf(InvalidArgumentError);
        }
      }),
    );
    fc.assert(
      fc.property(
        fc.record(
          { id: fc.anything(), type: fc.anything(), procedures: fc.anything() },
          { requiredKeys: [] },
        ),
        (broken) => {
          const value = { ...input({ beneficiary: { cardNumber: "0064", cpf: SAMPLE_CPF } }), ...broken };
          try {
            createGuide(value as never);
          } catch (e) {
            expect(e).toBeInstanceOf(InvalidArgumentError);
            expect(
              `${(e as Error).message}${JSON.stringify((e as InvalidArgumentError).issues)}`,
            ).not.toContain(SAMPLE_CPF);
          }
        },
      ),
    );
  });

  it("transition throws only InvalidArgumentError on malformed events, guides and times", () => {
    const g = createGuide(input());
    fc.assert(
      fc.property(fc.anything(), (event) => {
        expect(() => transition(g, event as never, { nowMs: T0 })).toThrow(InvalidArgumentError);
      }),
    );
    fc.assert(
      fc.property(fc.anything(), (guide) => {
        expect(() => transition(guide as never, { type: "cancel" }, { nowMs: T0 })).toThrow(
          InvalidArgumentError,
        );
      }),
    );
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string(),
          fc.double(),
          fc.constant(undefined),
          fc.constant(null),
          fc.integer({ max: -1 }),
        ),
        (nowMs) => {
          fc.pre(!(typeof nowMs === "number" && Number.isSafeInteger(nowMs) && nowMs >= 0));
          expect(() => transition(g, { type: "cancel" }, { nowMs } as never)).toThrow(InvalidArgumentError);
        },
      ),
    );
  });
});
