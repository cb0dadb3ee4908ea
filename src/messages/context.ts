/**
 * The message context: which facts about the attendance a message may carry on each channel.
 *
 * @module
 */

import { argIterable, argObject, argOptionalObject, argString } from "../_internal/args.js";
import type { Channel, TokenMessageContext, TokenMessageContextField } from "../ports/notifier.js";

/** Per channel, the {@link TokenMessageContext} fields a message may carry. */
export type MessageContextPolicy = {
  readonly [C in Channel]?: readonly TokenMessageContextField[] | undefined;
};

/**
 * The default: the app and e-mail show the guide's reference, the provider's name and the procedure summary;
 * SMS and WhatsApp (read on lock screens, kept by the carrier) show only the provider's name.
 */
export const DEFAULT_MESSAGE_CONTEXT: Readonly<Record<Channel, readonly TokenMessageContextField[]>> =
  Object.freeze({
    app: Object.freeze(["guideRef", "providerName", "procedureSummary"] as const),
    email: Object.freeze(["guideRef", "providerName", "procedureSummary"] as const),
    sms: Object.freeze(["providerName"] as const),
    whatsapp: Object.freeze(["providerName"] as const),
  });

/**
 * The part of `context` that `channel` may carry under `policy` (defaults from
 * {@link DEFAULT_MESSAGE_CONTEXT} for a channel the policy leaves out); `undefined` when nothing is left.
 *
 * @example
 * ```ts
 * contextForChannel({ guideRef: "G-1", providerName: "Clínica Exemplo" }, "sms");
 * // { providerName: "Clínica Exemplo" }
 * ```
 */
export function contextForChannel(
  context: { readonly [K in TokenMessageContextField]?: string | undefined } | undefined,
  channel: Channel,
  policy: MessageContextPolicy = {},
): TokenMessageContext | undefined {
  argOptionalObject(context, "context");
  argString(channel, "channel");
  argObject(policy, "policy");
  if (context === undefined) return undefined;
  const chosen: unknown = policy[channel] ?? DEFAULT_MESSAGE_CONTEXT[channel];
  if (!Array.isArray(chosen)) argIterable(undefined, `policy.${channel}`);
  const fields = chosen as readonly TokenMessageContextField[];
  const out: { -readonly [K in TokenMessageContextField]?: string } = {};
  for (const field of fields) {
    const value = context[field];
    if (value !== undefined) out[field] = value;
  }
  return Object.keys(out).length === 0 ? undefined : out;
}
