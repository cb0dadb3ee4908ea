/**
 * Verification of a sent code: one store step (the attempt, the failure counters, the lock and the events;
 * one round trip on a store with `verifyStep`). Never throws on a wrong or malformed code.
 *
 * @module
 */
import { normalizeCandidate } from "../_internal/codes.js";
import { constantTimeEqualString } from "../_internal/constant-time.js";
import { randomId } from "../_internal/ids.js";
import { idProblem } from "../_internal/text.js";
import { InvalidArgumentError } from "../errors.js";
import { rateLimitKeys } from "../policy/rate-limit.js";
import type { VerificationReceipt } from "../ports/receipt.js";
import { runVerifyStep } from "./_steps.js";
import { type ServiceContext, storeOp } from "./token-service.js";

/** What `TokenService.verify` is asked to check. */
export interface VerifyInput {
  /** The guide the code should confirm. */
  readonly guideId: string;
  /** The provider presenting it (the attendant's). */
  readonly providerId: string;
  /** The code as typed (spaces are ignored). */
  readonly code: string;
}

/** Why a verification failed. */
export type RejectReason =
  | "malformed"
  | "not_found"
  | "mismatch"
  | "wrong_provider"
  | "expired"
  | "consumed"
  | "revoked"
  | "locked"
  /** A code of the guide's previous token, presented after a new code was issued and before the old one would have expired: costs nothing. */
  | "superseded";

/** The result of a verification: a receipt, or a reason (and the attempts left after a wrong code). */
export type VerifyResult =
  | { readonly ok: true; readonly receipt: VerificationReceipt }
  | { readonly ok: false; readonly reason: RejectReason; readonly attemptsLeft?: number };

const MAX_ID = 128;

/** Checks the types of a verification input (misuse throws `InvalidArgumentError`; a bad code does not). */
export function assertVerifyShape(input: unknown, fields: readonly string[]): void {
  if (typeof input !== "object" || input === null) {
    throw new InvalidArgumentError("verification input must be an object");
  }
  const record = input as Record<string, unknown>;
  const issues: { path: string; message: string }[] = [];
  for (const field of fields) {
    const value = record[field];
    // The code is only type-checked: a bad code is a `malformed` result, not misuse.
    const problem =
      field !== "code"
        ? idProblem(value, MAX_ID)
        : typeof value === "string"
          ? undefined
          : "expected a string";
    if (problem !== undefined) issues.push({ path: field, message: problem });
  }
  if (issues.length > 0) throw new InvalidArgumentError("invalid verification input", issues);
}

/** Verifies a sent code (see {@link VerifyResult}). */
export async function verifyCode(ctx: ServiceContext, input: VerifyInput): Promise<VerifyResult> {
  assertVerifyShape(input, ["guideId", "providerId", "code"]);
  const { guideId, providerId } = input;
  const code = normalizeCandidate(input.code, ctx.policy.digits);
  if (code === undefined) return { ok: false, reason: "malformed" };
  const nowMs = ctx.clock.now();
  const { store, hashers } = ctx;

  let candidateHash = hashers[0]!.hash(guideId, code);
  if (hashers.length > 1) {
    // Pepper rotation: hash with the pepper the stored token was made with (read only to pick the key; the
    // attempt below still decides atomically).
    const token = await storeOp(() => store.get(guideId));
    if (token && !constantTimeEqualString(token.codeHash, candidateHash)) {
      for (let i = 1; i < hashers.length; i++) {
        const other = hashers[i]!.hash(guideId, code);
        if (constantTimeEqualString(token.codeHash, other)) candidateHash = other;
      }
    }
  }

  const { policy } = ctx;
  const step = await storeOp(() =>
    runVerifyStep(store, {
      guideId,
      providerId,
      candidateHash,
      nowMs,
      failureWindowMs: policy.failureWindowSeconds * 1000,
      // A wrong code is the beneficiary's failure. A code presented by another provider is not: anyone who
      // knows a guide id could otherwise lock the beneficiary out. It costs the token an attempt and goes on
      // the presenting provider's own counter.
      providerFailures: {
        key: rateLimitKeys.providerFailures(providerId),
        windowMs: policy.failureWindowSeconds * 1000,
      },
      eventIds: [randomId(ctx.pool), randomId(ctx.pool)],
    }),
  );
  ctx.tell(step.events);
  const result = step.attempt;
  if (result.outcome === "not_found") return { ok: false, reason: "not_found" };
  const token = result.token;
  if (result.outcome === "ok") {
    return {
      ok: true,
      receipt: {
        tokenId: token.tokenId,
        guideId,
        providerId: token.providerId,
        beneficiaryId: token.beneficiaryId,
        code,
        verifiedAtMs: nowMs,
        mode: "sent",
      },
    };
  }
  if (result.outcome === "mismatch" || result.outcome === "wrong_provider") {
    return { ok: false, reason: result.outcome, attemptsLeft: result.attemptsLeft };
  }
  return { ok: false, reason: result.outcome };
}
