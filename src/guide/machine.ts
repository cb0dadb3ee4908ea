/**
 * The guide state machine: pure functions over plain guides. Nothing here reads the clock: every call that
 * records or checks time takes `nowMs` from the caller.
 *
 * @module
 */
import { ConfigError, GuideTransitionError, InvalidArgumentError } from "../errors.js";
import { dayNumberOfDate, endOfSaoPauloDayMs, saoPauloDayOf } from "./_dates.js";
import {
  guideEventSchema,
  guideInputSchema,
  guidePolicySchema,
  guideSchema,
  parseOrThrow,
} from "./schemas.js";
import type {
  Guide,
  GuideConfirmation,
  GuideEvent,
  GuideEventType,
  GuideInput,
  GuidePolicy,
  GuideState,
} from "./states.js";
import { GUIDE_EVENT_TYPES, GUIDE_TRANSITIONS, TERMINAL_GUIDE_STATES } from "./states.js";

/** What {@link transition} needs besides the guide and the event. */
export interface TransitionContext {
  /**
   * The current time (ms since the epoch), required: it is recorded in the history and checked against the
   * senha's validity and the billing window. The machine never reads a clock itself; pass `clock.now()`.
   */
  readonly nowMs: number;
  /** Day-based limits; defaults `{ billingWindowDays: 90, returnWindowDays: 30 }`. */
  readonly policy?: GuidePolicy | undefined;
  /**
   * `false` when the operator has not rolled the token out for this guide: a `confirm` without a receipt or
   * an absence reason is then accepted, as `{ kind: "not_required" }` (TISS carries neither field). Default
   * `true`.
   */
  readonly proofRequired?: boolean | undefined;
}

/** What {@link availableEvents} takes; without `nowMs`, time guards are not evaluated. */
export interface AvailableEventsContext {
  /** The current time (ms); when given, events refused by a time guard are left out. */
  readonly nowMs?: number | undefined;
  /** Day-based limits, as for {@link transition}. */
  readonly policy?: GuidePolicy | undefined;
}

interface ResolvedPolicy {
  readonly billingWindowDays: number;
  readonly returnWindowDays: number;
}

function resolvePolicy(policy: unknown): ResolvedPolicy {
  const result = guidePolicySchema.safeParse(policy ?? {});
  if (!result.success) {
    const fields = result.error.issues.map((i) => `${i.path.join(".") || "policy"}: ${i.message}`).join("; ");
    throw new ConfigError(`invalid guide policy: ${fields}`, { scope: "guide" });
  }
  return {
    billingWindowDays: result.data.billingWindowDays ?? 90,
    returnWindowDays: result.data.returnWindowDays ?? 30,
  };
}

function checkNowMs(nowMs: unknown, path = "nowMs"): number {
  if (typeof nowMs !== "number" || !Number.isSafeInteger(nowMs) || nowMs < 0) {
    throw new InvalidArgumentError(`${path} is required: the current time in ms, a non-negative integer`, [
      { path, message: "required: the current time in ms, a non-negative integer" },
    ]);
  }
  return nowMs;
}

/**
 * The instant the senha stops being valid: the end of its `validUntil` day in America/Sao_Paulo
 * (UTC−03:00), that is 03:00 UTC of the next day. It is valid while `nowMs` is before this instant.
 */
function senhaEndMs(guide: Guide): number {
  const day = dayNumberOfDate(guide.authorization?.validUntil ?? "");
  return day === undefined ? 0 : endOfSaoPauloDayMs(day);
}

/** The end of the billing window: the end of the `billingWindowDays`-th São Paulo day after confirmation. */
function billingEndMs(guide: Guide, policy: ResolvedPolicy): number {
  const at = guide.confirmation?.atMs;
  return at === undefined ? 0 : endOfSaoPauloDayMs(saoPauloDayOf(at) + policy.billingWindowDays);
}

/** The reason a time guard refuses `event` at `nowMs`, or `undefined` when time allows it. */
function timeGuard(
  guide: Guide,
  event: GuideEventType,
  nowMs: number,
  policy: ResolvedPolicy,
): string | undefined {
  switch (event) {
    case "confirm":
      return nowMs >= senhaEndMs(guide) ? "senha_expired" : undefined;
    case "bill":
      return nowMs >= billingEndMs(guide, policy) ? "billing_window_passed" : undefined;
    case "expire": {
      const dueAt = guide.state === "confirmed" ? billingEndMs(guide, policy) : senhaEndMs(guide);
      return nowMs >= dueAt ? undefined : "not_due";
    }
    default:
      return undefined;
  }
}

function rulesFor(state: GuideState, event: GuideEventType) {
  return GUIDE_TRANSITIONS.filter((r) => r.from === state && r.event === event);
}

/**
 * Creates a guide in state `requested` with an empty history.
 *
 * @param input - validated with zod; a CPF may be punctuated and is kept as 11 digits; a council and a UF may
 *   be a TISS code or a sigla and are kept as the code; a procedure's `table` defaults to `22`
 * @throws InvalidArgumentError listing every bad field (`beneficiary.cpf`, `procedures.0.tuss`, …)
 * @example
 * ```ts
 * const guide = createGuide({
 *   id: "G-2026-0001",
 *   type: "sp_sadt",
 *   character: "eletiva",
 *   beneficiary: { cardNumber: "0064123400012345" },
 *   provider: { code: "PR-000123", professional: { council: "CRM", number: "12345", uf: "PR", cbo: "225125" } },
 *   procedures: [{ tuss: "40304361", quantity: 1 }],
 * });
 * guide.state; // "requested"
 * guide.provider.professional?.council; // "06": the TISS code of CRM (and uf "41" for PR)
 * ```
 */
export function createGuide(input: GuideInput): Guide {
  const parsed = parseOrThrow(guideInputSchema, input, "guide input");
  return { ...(parsed as Omit<Guide, "state" | "history">), state: "requested", history: [] };
}

/**
 * Applies one event to a guide and returns the new guide, with `{ from, to, event, atMs }` appended to its
 * history. Pure: the input guide is never modified (the result shares nothing mutable with it).
 *
 * Guards, beyond the transition table ({@link GUIDE_TRANSITIONS}):
 * - `authorize`: the validity date must not have ended at `nowMs` (`validity_in_past`);
 * - `confirm`: the senha must still be valid at `nowMs` (`senha_expired`); a `receipt` must be for this guide
 *   (`receipt.guideId === guide.id`) and provider (`receipt.providerId === guide.provider.code`), otherwise
 *   `receipt_mismatch`; a guide other than `honorarios` needs a receipt or an absence reason
 *   (`proof_required`); a `honorarios` guide takes neither (`proof_not_applicable`);
 * - `bill`: before the end of the `billingWindowDays`-th day (America/Sao_Paulo) after the confirmation day
 *   (`billing_window_passed`);
 * - `expire`: only once the senha's validity or the billing window has passed (`not_due`).
 * A pair missing from the table is `illegal_event`, or `terminal_state` from a terminal state.
 *
 * @param guide - a guide from {@link createGuide} or a previous transition (validated; JSON from storage is fine)
 * @param event - the event; validated, unknown fields refused
 * @param ctx - `nowMs` (required) and the `policy`
 * @throws GuideTransitionError when the state or a guard refuses the event
 * @throws InvalidArgumentError when the guide, the event or `nowMs` is malformed
 * @throws ConfigError when the policy is invalid
 * @example
 * ```ts
 * const nowMs = clock.now();
 * let g = transition(guide, { type: "authorize", senha: "A1B2C3", validUntil: "2026-12-31" }, { nowMs });
 * const result = await tokens.verify({ guideId: g.id, providerId: g.provider.code, code });
 * if (result.ok) g = transition(g, { type: "confirm", receipt: result.receipt }, { nowMs });
 * ```
 */
export function transition(guide: Guide, event: GuideEvent, ctx: TransitionContext): Guide {
  const nowMs = checkNowMs((ctx as TransitionContext | undefined)?.nowMs);
  const policy = resolvePolicy(ctx.policy);
  const g = parseOrThrow(guideSchema, guide, "guide", "guide") as Guide;
  const e = parseOrThrow(guideEventSchema, event, "guide event", "event") as GuideEvent;
  const from = g.state;
  const rules = rulesFor(from, e.type);
  if (rules.length === 0) {
    const reason = TERMINAL_GUIDE_STATES.includes(from) ? "terminal_state" : "illegal_event";
    throw new GuideTransitionError(from, e.type, reason);
  }
  const refusedByTime = timeGuard(g, e.type, nowMs, policy);
  if (refusedByTime) throw new GuideTransitionError(from, e.type, refusedByTime);

  let to = rules[0]!.to;
  let next: Guide = g;
  switch (e.type) {
    case "authorize": {
      const end = endOfSaoPauloDayMs(dayNumberOfDate(e.validUntil)!);
      if (nowMs >= end) throw new GuideTransitionError(from, e.type, "validity_in_past");
      const partial = e.partial === true;
      to = partial ? "partially_authorized" : "authorized";
      const numero =
        e.numeroGuiaOperadora === undefined ? {} : { numeroGuiaOperadora: e.numeroGuiaOperadora };
      next = {
        ...g,
        authorization: { senha: e.senha, validUntil: e.validUntil, partial, ...numero, atMs: nowMs },
      };
      break;
    }
    case "deny":
      next = { ...g, denial: { glosas: [...e.glosas], atMs: nowMs } };
      break;
    case "confirm":
      next = { ...g, confirmation: confirmationOf(g, e, nowMs, ctx.proofRequired !== false) };
      break;
    case "bill":
      next = { ...g, billing: { batchId: e.batchId, atMs: nowMs } };
      break;
    case "disallow":
      next = { ...g, disallowance: { glosas: [...e.glosas], atMs: nowMs } };
      break;
    case "appeal":
      next = {
        ...g,
        appeal:
          e.justification === undefined ? { atMs: nowMs } : { justification: e.justification, atMs: nowMs },
      };
      break;
    case "pay":
      next = { ...g, payment: { atMs: nowMs } };
      break;
    default:
      break;
  }
  return { ...next, state: to, history: [...g.history, { from, to, event: e.type, atMs: nowMs }] };
}

function confirmationOf(
  g: Guide,
  e: Extract<GuideEvent, { type: "confirm" }>,
  nowMs: number,
  proofRequired: boolean,
): GuideConfirmation {
  if (g.type === "honorarios") {
    // TISS has no codValidacao/ausenciaCodValidacao on a guia de honorários: proof would be lost, so refuse it.
    if (e.receipt || e.absence) throw new GuideTransitionError(g.state, "confirm", "proof_not_applicable");
    return { kind: "not_required", atMs: nowMs };
  }
  if (e.receipt) {
    const r = e.receipt;
    if (r.guideId !== g.id) {
      throw new GuideTransitionError(
        g.state,
        "confirm",
        "receipt_mismatch",
        "the receipt is for another guide",
      );
    }
    if (r.providerId !== g.provider.code) {
      throw new GuideTransitionError(
        g.state,
        "confirm",
        "receipt_mismatch",
        "the receipt is for another provider",
      );
    }
    // The code is kept on purpose: TISS requires it as codValidacao when the guide is billed. It was
    // single-use and the verification consumed it, so storing it grants nothing.
    return {
      kind: "token",
      atMs: nowMs,
      codValidacao: r.code,
      tokenId: r.tokenId,
      beneficiaryId: r.beneficiaryId,
      verifiedAtMs: r.verifiedAtMs,
      mode: r.mode,
    };
  }
  if (e.absence) {
    return { kind: "absence", atMs: nowMs, reason: e.absence.reason, justification: e.absence.justification };
  }
  if (!proofRequired) return { kind: "not_required", atMs: nowMs };
  throw new GuideTransitionError(g.state, "confirm", "proof_required", "a receipt or a TISS table 74 reason");
}

/**
 * The event types the guide can take now, in {@link GUIDE_EVENT_TYPES} order. With `nowMs`, events a time
 * guard would refuse are left out (`confirm` after the senha's validity, `bill` after the billing window,
 * `expire` before either has passed); every event listed then succeeds with a well-formed payload (for
 * `confirm`, a matching receipt or an absence reason). Without `nowMs`, only the transition table is consulted.
 *
 * @example
 * ```ts
 * availableEvents(createGuide(input)); // ["start_review", "request_justification", "request_documents", "authorize", "deny", "cancel"]
 * ```
 */
export function availableEvents(guide: Guide, ctx: AvailableEventsContext = {}): GuideEventType[] {
  const g = parseOrThrow(guideSchema, guide, "guide", "guide") as Guide;
  const nowMs = ctx.nowMs === undefined ? undefined : checkNowMs(ctx.nowMs);
  const policy = resolvePolicy(ctx.policy);
  return GUIDE_EVENT_TYPES.filter(
    (type) =>
      rulesFor(g.state, type).length > 0 &&
      (nowMs === undefined || timeGuard(g, type, nowMs, policy) === undefined),
  );
}

/**
 * Moves the guide to `expired` when time has run out: an `authorized` or `partially_authorized` guide whose
 * senha is no longer valid at `nowMs`, or a `confirmed` guide whose billing window has passed. Otherwise
 * returns the very same guide object (so `expireIfDue(g, now) === g` means nothing was due).
 *
 * @example
 * ```ts
 * const g2 = expireIfDue(guide, clock.now());
 * if (g2 !== guide) await save(g2);
 * ```
 */
export function expireIfDue(
  guide: Guide,
  nowMs: number,
  options: { readonly policy?: GuidePolicy | undefined } = {},
): Guide {
  const now = checkNowMs(nowMs);
  const available = availableEvents(
    guide,
    options.policy ? { nowMs: now, policy: options.policy } : { nowMs: now },
  );
  if (!available.includes("expire")) return guide;
  return transition(
    guide,
    { type: "expire" },
    options.policy ? { nowMs: now, policy: options.policy } : { nowMs: now },
  );
}

/**
 * A Mermaid `stateDiagram-v2` of the machine, generated from {@link GUIDE_TRANSITIONS}: one arrow per
 * (state, target) pair labelled with its events, and an arrow to `[*]` from every terminal state.
 * `docs/guide-states.md` is generated from it by `scripts/guide-diagram.ts`.
 *
 * @example
 * ```ts
 * const diagram = guideStateDiagram(); // "stateDiagram-v2\n    [*] --> requested\n…"
 * writeFileSync("guide-states.mmd", diagram); // render with any Mermaid viewer
 * ```
 */
export function guideStateDiagram(): string {
  const edges = new Map<string, GuideEventType[]>();
  for (const r of GUIDE_TRANSITIONS) {
    const key = `${r.from} --> ${r.to}`;
    const events = edges.get(key) ?? [];
    if (!events.includes(r.event)) events.push(r.event);
    edges.set(key, events);
  }
  const lines = ["stateDiagram-v2", "    [*] --> requested"];
  for (const [key, events] of edges) lines.push(`    ${key} : ${events.join(", ")}`);
  for (const s of TERMINAL_GUIDE_STATES) lines.push(`    ${s} --> [*]`);
  return `${lines.join("\n")}\n`;
}
