/**
 * What the attendant's screen shows about a guide's code (`pending`, `sent` on a channel to a masked contact,
 * `failed` with a next step, `unfinished` after a crash), read back from the event log; and the delivery
 * receipts of the providers' status callbacks, recorded as `token.delivery_status` events.
 *
 * @module
 */
import { ReceiptRejectedError } from "../errors.js";
import type { DeliveryReport } from "../ports/delivery-report.js";
import type { TokenEvent } from "../ports/events.js";
import type { Channel } from "../ports/notifier.js";
import type { StoredToken, TokenStatus } from "../ports/store.js";
import { type DeliveryRunner, decodeReference } from "./delivery-run.js";
import { type ServiceContext, storeOp } from "./token-service.js";

/** What the attendant can do next after a failed or unfinished delivery. */
export type DeliveryNextStep =
  /** Every try failed for a reason that may pass (timeouts, throttling, the deadline): try again in a moment. */
  | "retry_later"
  /** The provider refused the contact (invalid number, not on WhatsApp): pick another contact or channel. */
  | "choose_another_contact"
  /** The run never finished (the process stopped): ask whether a code arrived; otherwise issue a new one. */
  | "ask_then_issue_new_code";

/** The token's own state beside the delivery's (`expired` derived from the clock). */
export type TokenState = TokenStatus | "expired";

/**
 * The answer of {@link TokenService.deliveryStatus}.
 *
 * @example
 * ```ts
 * const s = await tokens.deliveryStatus("G-1");
 * if (s.state === "sent") show(`enviado por ${s.channel} para ${s.maskedContact}`);
 * ```
 */
export type DeliveryStatus =
  | { readonly state: "none"; readonly guideId: string }
  | {
      readonly state: "pending";
      readonly guideId: string;
      readonly tokenId: string;
      readonly tokenState: TokenState;
      readonly deliveryId: string;
      readonly deadlineAtMs: number;
      /** Tries that failed so far in this run. */
      readonly failedTries: number;
    }
  | {
      readonly state: "sent";
      readonly guideId: string;
      readonly tokenId: string;
      readonly tokenState: TokenState;
      readonly deliveryId: string | undefined;
      readonly channel: Channel;
      readonly maskedContact: string;
      readonly recipient: "beneficiary" | "guardian";
      readonly providerMessageId: string | undefined;
      readonly sentAtMs: number;
      /** The latest receipt of the provider for that message, if any arrived. */
      readonly receipt: "sent" | "delivered" | "read" | undefined;
    }
  | {
      readonly state: "failed";
      readonly guideId: string;
      readonly tokenId: string;
      readonly tokenState: TokenState;
      readonly deliveryId: string | undefined;
      /** The last failure: `delivery_failed:<provider code>`, `receipt_failed:<provider code>`, … */
      readonly reason: string;
      readonly nextStep: DeliveryNextStep;
    }
  | {
      readonly state: "unfinished";
      readonly guideId: string;
      readonly tokenId: string;
      readonly tokenState: TokenState;
      readonly deliveryId: string;
      readonly startedAtMs: number;
      readonly nextStep: "ask_then_issue_new_code";
    };

/** A run still counts as `pending` this long past its deadline (the last events are being written). */
const GRACE_MS = 5_000;
/** How far back a status read looks for the token's events. */
const PAGE = 200;
const MAX_PAGES = 5;

/** The token's events, newest first, up to (and including) its `token.issued`. */
async function tokenEvents(ctx: ServiceContext, token: StoredToken): Promise<TokenEvent[]> {
  const out: TokenEvent[] = [];
  let before: string | undefined;
  for (let page = 0; page < MAX_PAGES; page++) {
    const events = await storeOp(() =>
      ctx.store.listEvents(token.beneficiaryId, { limit: PAGE, ...(before ? { before } : {}) }),
    );
    for (const e of events) {
      if (e.tokenId !== token.tokenId) continue;
      out.push(e);
      if (e.type === "token.issued") return out;
    }
    if (events.length < PAGE) return out;
    before = events[events.length - 1]!.id;
  }
  return out;
}

function tokenState(token: StoredToken, nowMs: number): TokenState {
  return token.status === "active" && nowMs >= token.expiresAtMs ? "expired" : token.status;
}

const TRANSIENT = /:(deadline|aborted|timeout|network|\d{3}|20429|130429|131056|4|80007)$/;

function nextStepOf(reasons: readonly string[]): DeliveryNextStep {
  return reasons.length > 0 && reasons.every((r) => TRANSIENT.test(r) || r === "delivery_failed")
    ? "retry_later"
    : "choose_another_contact";
}

/** Reads the delivery status of a guide's latest token from the event log. */
export async function readDeliveryStatus(
  ctx: ServiceContext,
  runner: DeliveryRunner,
  guideId: string,
): Promise<DeliveryStatus> {
  const token = await storeOp(() => ctx.store.get(guideId));
  if (token === undefined) return { state: "none", guideId };
  const nowMs = ctx.clock.now();
  const events = await tokenEvents(ctx, token);
  const common = { guideId, tokenId: token.tokenId, tokenState: tokenState(token, nowMs) } as const;
  const started = events.find((e) => e.type === "token.delivery_started");
  const runId = started?.deliveryId;
  const ofRun = started === undefined ? events : events.filter((e) => e.deliveryId === runId);
  const delivered = ofRun.find((e) => e.type === "token.delivered");
  if (delivered !== undefined) {
    const id = delivered.providerMessageId;
    const receipts =
      id === undefined
        ? []
        : events.filter((e) => e.type === "token.delivery_status" && e.providerMessageId === id);
    const failed = receipts.find((e) => e.deliveryStatus === "failed");
    if (failed !== undefined) {
      return {
        state: "failed",
        ...common,
        deliveryId: runId,
        reason: `receipt_failed${failed.providerCode ? `:${failed.providerCode}` : ""}`,
        nextStep: "choose_another_contact",
      };
    }
    const latest = receipts.find((e) => e.deliveryStatus !== "failed")?.deliveryStatus;
    return {
      state: "sent",
      ...common,
      deliveryId: runId,
      channel: delivered.channel!,
      maskedContact: delivered.maskedContact ?? "",
      recipient: delivered.recipient ?? "beneficiary",
      providerMessageId: id,
      sentAtMs: delivered.atMs,
      receipt: latest === "failed" ? undefined : latest,
    };
  }
  const failures = ofRun.filter((e) => e.type === "token.delivery_failed").map((e) => e.reason ?? "");
  const gaveUp = events.find(
    (e) =>
      e.type === "token.revoked" &&
      e.reason === "delivery_failed" &&
      (started === undefined || e.atMs >= started.atMs),
  );
  if (gaveUp !== undefined || started === undefined) {
    if (started === undefined && failures.length === 0) return { state: "none", guideId };
    return {
      state: "failed",
      ...common,
      deliveryId: runId,
      reason: failures[0] ?? "delivery_failed",
      nextStep: nextStepOf(failures),
    };
  }
  const deadlineAtMs = started.deadlineAtMs ?? started.atMs;
  if (runner.inFlight(token.tokenId) || nowMs < deadlineAtMs + GRACE_MS) {
    return { state: "pending", ...common, deliveryId: runId!, deadlineAtMs, failedTries: failures.length };
  }
  return {
    state: "unfinished",
    ...common,
    deliveryId: runId!,
    startedAtMs: started.atMs,
    nextStep: "ask_then_issue_new_code",
  };
}

/** The result of {@link TokenService.applyDeliveryReport}. */
export interface DeliveryReportResult {
  /** The guide and token it concerned. */
  readonly guideId: string;
  readonly tokenId: string;
  /** The status recorded. */
  readonly status: DeliveryReport["status"];
  /**
   * For `failed`: `started` (the same code went to the next contact, on `channel`), or why not: `disabled` by
   * the settings, `exhausted` (no contact left), `unavailable` (this process does not hold the code: the run
   * was in another process or before a restart), `not_current` (a report about an older message), `inactive`
   * (the token was consumed, revoked, locked or expired).
   */
  readonly fallback?:
    | { readonly outcome: "started"; readonly deliveryId: string; readonly channel: Channel }
    | { readonly outcome: "disabled" | "unavailable" | "exhausted" | "not_current" | "inactive" };
}

/** Records a provider's report as a `token.delivery_status` event; on `failed`, falls back when it may. */
export async function applyDeliveryReport(
  ctx: ServiceContext,
  runner: DeliveryRunner,
  report: DeliveryReport,
  options: { readonly guideId?: string | undefined } = {},
): Promise<DeliveryReportResult> {
  if (
    typeof report !== "object" ||
    report === null ||
    typeof report.providerMessageId !== "string" ||
    report.providerMessageId.length === 0 ||
    report.providerMessageId.length > 200 ||
    typeof report.provider !== "string" ||
    !/^[a-z0-9_-]{1,32}$/.test(report.provider) ||
    !["sent", "delivered", "read", "failed"].includes(report.status) ||
    typeof report.dedupeKey !== "string" ||
    report.dedupeKey.length === 0 ||
    report.dedupeKey.length > 300
  ) {
    throw new ReceiptRejectedError("malformed", "not a delivery report");
  }
  const ref = report.reference === undefined ? undefined : decodeReference(report.reference);
  const guideId = ref?.guideId ?? options.guideId;
  if (guideId === undefined) {
    throw new ReceiptRejectedError(
      "unknown_token",
      "the report carries no reference and no guideId was given",
    );
  }
  const token = await storeOp(() => ctx.store.get(guideId));
  if (token === undefined || (ref !== undefined && ref.tokenId !== token.tokenId)) {
    throw new ReceiptRejectedError("unknown_token", "no current token of the guide matches the report");
  }
  const nowMs = ctx.clock.now();
  const first = await storeOp(() =>
    ctx.store.claimOnce(
      `receipt:${report.provider}:${report.dedupeKey}`,
      Math.max(token.expiresAtMs, nowMs + 86_400_000),
      nowMs,
    ),
  );
  if (!first) throw new ReceiptRejectedError("replayed", "this report was already processed");
  const providerCode = report.providerCode?.slice(0, 64);
  await ctx.emit(
    {
      type: "token.delivery_status",
      beneficiaryId: token.beneficiaryId,
      guideId,
      providerId: token.providerId,
      tokenId: token.tokenId,
      provider: report.provider,
      providerMessageId: report.providerMessageId,
      deliveryStatus: report.status,
      ...(providerCode ? { providerCode } : {}),
    },
    nowMs,
  );
  const result = { guideId, tokenId: token.tokenId, status: report.status } as const;
  if (report.status !== "failed") return result;
  if (tokenState(token, nowMs) !== "active") return { ...result, fallback: { outcome: "inactive" } };
  return { ...result, fallback: await runner.fallBack(token.tokenId, report.providerMessageId) };
}
