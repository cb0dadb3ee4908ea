/** Shared test data for the guide suites. All data is made up; CPFs are generated with valid check digits. */
import {
  createGuide,
  type Guide,
  type GuideEvent,
  type GuideEventType,
  type GuideInput,
  type GuideState,
  type GuideType,
  transition,
} from "../../../src/guide/index.js";
import type { VerificationReceipt } from "../../../src/ports/receipt.js";

/** 2026-11-23T09:00 in São Paulo (12:00 UTC). */
export const T0 = Date.UTC(2026, 10, 23, 12, 0, 0);
export const HOUR = 3_600_000;
export const DAY = 86_400_000;
/** The senha of {@link authorizeEvent} is valid through 2026-11-30 in São Paulo: until 2026-12-01T03:00Z. */
export const SENHA_VALID_UNTIL = "2026-11-30";
export const SENHA_END_MS = Date.UTC(2026, 11, 1, 3, 0, 0);
/** Confirmed at T0 (São Paulo day 2026-11-23), 90 days: billable through 2027-02-21, until 2027-02-22T03:00Z. */
export const BILLING_END_MS = Date.UTC(2027, 1, 22, 3, 0, 0);

/** Computes the two CPF check digits of nine digits (written independently of src/guide/tiss.ts). */
export function cpfFromNine(nine: readonly number[]): string {
  const d = [...nine];
  for (const len of [9, 10]) {
    let sum = 0;
    for (let i = 0; i < len; i++) sum += d[i]! * (len + 1 - i);
    const rest = sum % 11;
    d.push(rest < 2 ? 0 : 11 - rest);
  }
  return d.join("");
}

/** A made-up CPF with valid check digits. */
export const SAMPLE_CPF = cpfFromNine([3, 9, 0, 5, 3, 3, 4, 4, 7]);

export function input(overrides: Partial<GuideInput> = {}): GuideInput {
  return {
    id: "G-2026-0001",
    type: "sp_sadt",
    character: "eletiva",
    beneficiary: { cardNumber: "0064123400012345", cpf: SAMPLE_CPF },
    provider: {
      code: "PR-000123",
      professional: { council: "CRM", number: "99999", uf: "PR", cbo: "225125" },
    },
    procedures: [{ tuss: "40304361", quantity: 1 }],
    ...overrides,
  };
}

export function receiptFor(guide: Guide, overrides: Partial<VerificationReceipt> = {}): VerificationReceipt {
  return {
    tokenId: "tok_01",
    guideId: guide.id,
    providerId: guide.provider.code,
    beneficiaryId: "ben_01",
    code: "482913",
    verifiedAtMs: T0,
    mode: "sent",
    ...overrides,
  };
}

export const authorizeEvent = (partial = false): GuideEvent => ({
  type: "authorize",
  senha: "SENHA-0001",
  validUntil: SENHA_VALID_UNTIL,
  partial,
});

/** A well-formed event of each type for `guide` (confirm: a matching receipt, or nothing for honorários). */
export function eventFor(guide: Guide, type: GuideEventType): GuideEvent {
  switch (type) {
    case "authorize":
      return authorizeEvent();
    case "deny":
      return { type, glosas: ["1801"] };
    case "confirm":
      return guide.type === "honorarios" ? { type } : { type, receipt: receiptFor(guide) };
    case "bill":
      return { type, batchId: "L000001" };
    case "disallow":
      return { type, glosas: ["3156"] };
    case "appeal":
      return { type, justification: "token conferido no atendimento" };
    default:
      return { type } as GuideEvent;
  }
}

/** The events (from a new guide, all at T0, except `expire`) that lead to each state. */
const PATHS: Record<GuideState, readonly GuideEventType[]> = {
  requested: [],
  under_review: ["start_review"],
  awaiting_justification: ["request_justification"],
  awaiting_documents: ["request_documents"],
  authorized: ["authorize"],
  partially_authorized: ["authorize"],
  denied: ["deny"],
  cancelled: ["cancel"],
  confirmed: ["authorize", "confirm"],
  billed: ["authorize", "confirm", "bill"],
  paid: ["authorize", "confirm", "bill", "pay"],
  disallowed: ["authorize", "confirm", "bill", "disallow"],
  appealed: ["authorize", "confirm", "bill", "disallow", "appeal"],
  expired: ["authorize", "expire"],
};

/** A guide in `state`, reached through real transitions at T0 (and at the senha's end for `expired`). */
export function guideIn(state: GuideState, type: GuideType = "sp_sadt"): Guide {
  let g = createGuide(input({ type }));
  for (const e of PATHS[state]) {
    const event =
      e === "authorize" && state === "partially_authorized" ? authorizeEvent(true) : eventFor(g, e);
    g = transition(g, event, { nowMs: e === "expire" ? SENHA_END_MS : T0 });
  }
  if (g.state !== state) throw new Error(`fixture reached ${g.state}, not ${state}`);
  return g;
}

/** Freezes an object graph, so any write to it throws in strict mode. */
export function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === "object" && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}

/** The transition table, written out by hand from the documented state machine (docs/guide-states.md), independently of the source. */
export type Row = Partial<Record<GuideEventType, GuideState>>;
const reviewExits = { authorize: "authorized", deny: "denied", cancel: "cancelled" } as const;
export const EXPECTED: Record<GuideState, Row> = {
  requested: {
    start_review: "under_review",
    request_justification: "awaiting_justification",
    request_documents: "awaiting_documents",
    ...reviewExits,
  },
  under_review: {
    request_justification: "awaiting_justification",
    request_documents: "awaiting_documents",
    ...reviewExits,
  },
  awaiting_justification: {
    start_review: "under_review",
    request_documents: "awaiting_documents",
    ...reviewExits,
  },
  awaiting_documents: {
    start_review: "under_review",
    request_justification: "awaiting_justification",
    ...reviewExits,
  },
  authorized: { confirm: "confirmed", cancel: "cancelled", expire: "expired" },
  partially_authorized: { confirm: "confirmed", cancel: "cancelled", expire: "expired" },
  denied: {},
  cancelled: {},
  confirmed: { bill: "billed", cancel: "cancelled", expire: "expired" },
  billed: { pay: "paid", disallow: "disallowed" },
  paid: {},
  disallowed: { appeal: "appealed" },
  appealed: { pay: "paid", disallow: "disallowed" },
  expired: {},
};
export const TERMINAL = new Set<GuideState>(["denied", "cancelled", "paid", "expired"]);
