/**
 * The gradual-rollout policy: per guide, whether a token is required to confirm it. Operators enable the
 * token contract by contract (Unimed does), so a guide outside the rollout confirms without proof and its
 * TISS output carries neither `codValidacao` nor `ausenciaCodValidacao` (the XSD allows both absent).
 *
 * @module
 */

import { argIterable } from "../../_internal/args.js";
import type { Guide } from "../../guide/states.js";

/**
 * Decides, when a guide is opened, whether it needs a token. The answer is stored with the attendance, so
 * changing the policy later never flips a guide that is already in progress.
 *
 * @example
 * ```ts
 * const rollout: TokenRollout = (guide) => guide.provider.code !== "PRV-LEGACY";
 * const desk = createAttendanceDesk({ tokens, guides, rollout });
 * ```
 */
export type TokenRollout = (guide: Guide) => boolean;

/**
 * A rollout that requires the token only for the listed provider codes (the contracts already enabled).
 *
 * @example
 * ```ts
 * const desk = createAttendanceDesk({ tokens, guides, rollout: tokenRequiredFor(["PRV-1", "PRV-2"]) });
 * ```
 */
export function tokenRequiredFor(providerCodes: Iterable<string>): TokenRollout {
  argIterable(providerCodes, "providerCodes");
  const enabled = new Set(providerCodes);
  return (guide) => enabled.has(guide.provider.code);
}

/**
 * The default rollout: every guide needs a token (a honorários guide never does: TISS has no field).
 *
 * @example
 * ```ts
 * const desk = createAttendanceDesk({ tokens, guides, rollout: everyGuideRequiresToken }); // the default
 * ```
 */
export const everyGuideRequiresToken: TokenRollout = () => true;
