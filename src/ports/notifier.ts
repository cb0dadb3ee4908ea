/**
 * The notifier port: how a token reaches a person.
 *
 * @module
 */

/** A delivery channel. `app` is a push to (or an in-app code in) the operator's app. */
export type Channel = "sms" | "email" | "whatsapp" | "app";

/** Every channel, in the default preference order (app first: NIST rates SMS as restricted). */
export const CHANNELS: readonly Channel[] = ["app", "sms", "whatsapp", "email"];

/** The locales the default templates speak. */
export type Locale = "pt-BR" | "en";

/**
 * What a notifier is asked to deliver: the code and what the template needs, and nothing else about the
 * beneficiary (no CPF, no card number, no procedures).
 */
export interface TokenMessage {
  /** The plaintext one-time code. This message is the only place it exists outside the beneficiary's hands. */
  readonly code: string;
  /** How long the code stays valid, in seconds. */
  readonly ttlSeconds: number;
  /** When the code expires (ms since the epoch). */
  readonly expiresAtMs: number;
  /** The channel to deliver on. */
  readonly channel: Channel;
  /** The contact address: E.164 phone (`+5543999991234`) for sms/whatsapp, e-mail, or the app's device or user id. */
  readonly to: string;
  /** Who receives it: the beneficiary, or their guardian (minors). */
  readonly recipient: "beneficiary" | "guardian";
  /** The beneficiary's opaque id (never a CPF or card number). */
  readonly beneficiaryId: string;
  /** The locale of the text. */
  readonly locale: Locale;
  /** The operator's display name, shown in the message. */
  readonly operatorName?: string | undefined;
  /**
   * What the code confirms, as far as this channel may show it (each field optional and configured per
   * channel): the guide's reference, the provider's display name, a short procedure summary.
   */
  readonly context?: TokenMessageContext | undefined;
  /**
   * An opaque reference for "I did not request this code": pass it to the token service's
   * `reportUnrequested({ reportRef })`, which resolves the guide and the beneficiary from it.
   */
  readonly reportRef?: string | undefined;
}

/**
 * What a message may say about the attendance. Minimal under LGPD: no CPF, card number or diagnosis; a
 * procedure summary is a short label chosen by the integrator (`Consulta eletiva`).
 */
export interface TokenMessageContext {
  /** The guide's reference (its id), so the beneficiary can tell two codes apart. */
  readonly guideRef?: string | undefined;
  /** The provider's display name (`Clínica Exemplo`). */
  readonly providerName?: string | undefined;
  /** A short procedure summary (`Consulta eletiva`). */
  readonly procedureSummary?: string | undefined;
}

/** A field of {@link TokenMessageContext}. */
export type TokenMessageContextField = keyof TokenMessageContext;

/** What a notifier reports after the provider accepted a message. */
export interface DeliveryReceipt {
  /** The channel it went out on. */
  readonly channel: Channel;
  /** The provider's message id, when it gives one. */
  readonly providerMessageId?: string | undefined;
}

/**
 * What the token service hands a notifier beside the message: a signal that aborts the send when the
 * delivery's deadline passes (or the caller cancels), and an opaque reference the provider may echo in its
 * status callbacks. A notifier that ignores both still works: the service stops waiting for it at the deadline.
 *
 * @example
 * ```ts
 * await notifier.send(message, { signal: AbortSignal.timeout(2_000), reference: "ht1.tok.Zy0x" });
 * ```
 */
export interface SendOptions {
  /** Aborted when the delivery's deadline passes or the caller cancels: stop and reject. */
  readonly signal?: AbortSignal | undefined;
  /**
   * An opaque correlation id (no personal data) to attach where the provider echoes it in status callbacks
   * (WhatsApp `biz_opaque_callback_data`, Twilio `StatusCallback` query, Zenvia `externalId`).
   */
  readonly reference?: string | undefined;
}

/**
 * Delivers token messages. Implementations throw `DeliveryFailedError` (with the provider's error as
 * `cause`) when the provider refuses or cannot be reached, and never put the code or any credential in an
 * error message or a log.
 *
 * @example
 * ```ts
 * import { DeliveryFailedError, type Notifier, renderTokenMessage } from "health-token";
 *
 * const push: Notifier = {
 *   async send(message, { signal } = {}) {
 *     const { text } = renderTokenMessage(message);
 *     const response = await fetch("https://push.operadora.example/v1/messages", {
 *       method: "POST",
 *       body: JSON.stringify({ device: message.to, text }),
 *       ...(signal ? { signal } : {}),
 *     });
 *     if (!response.ok) throw new DeliveryFailedError(`push gateway answered ${response.status}`);
 *     return { channel: message.channel };
 *   },
 * };
 * const tokens = createTokenService({ store, notifier: { app: push, sms }, pepper });
 * ```
 */
export interface Notifier {
  /** Sends one message; resolves once the provider accepted it, with the provider's message id if any. */
  send(message: TokenMessage, options?: SendOptions): Promise<DeliveryReceipt>;
}
