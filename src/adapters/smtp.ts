/**
 * health-token/smtp: delivers tokens by e-mail through a nodemailer transport the caller owns (pooling, TLS,
 * DKIM and credentials stay in the caller's configuration). No runtime import of nodemailer: any object with
 * a compatible `sendMail` works.
 *
 * Each message has a plain-text and an HTML part (the `email` template, pt-BR or en), the recipient, the
 * subject and the code; nothing else about the beneficiary. NIST SP 800-63B rules e-mail out as an
 * out-of-band authenticator: keep it as a fallback the operator chooses knowingly.
 *
 * @example
 * ```ts
 * import nodemailer from "nodemailer";
 * import { SmtpNotifier } from "health-token/smtp";
 *
 * const transport = nodemailer.createTransport({ host: "smtp.example.org", port: 587, auth: { user, pass } });
 * const email = new SmtpNotifier({ transport, from: '"Plano Exemplo" <nao-responda@example.org>', secrets: [pass] });
 * await email.send({ code: "123456", to: "pessoa@example.org", channel: "email", ... });
 * ```
 *
 * @module
 */
import { ConfigError, DeliveryFailedError } from "../errors.js";
import { renderTokenMessage, type TemplateOverrides } from "../messages/templates.js";
import type { DeliveryReceipt, Notifier, TokenMessage } from "../ports/notifier.js";
import { redact } from "./_http.js";

/** The mail a {@link SmtpNotifier} hands to the transport (a subset of nodemailer's `SendMailOptions`). */
export interface SmtpMail {
  /** Sender address. */
  readonly from: string;
  /** Recipient address. */
  readonly to: string;
  /** Subject line. */
  readonly subject: string;
  /** Plain-text part. */
  readonly text: string;
  /** HTML part. */
  readonly html: string;
  /** Extra headers. */
  readonly headers: Readonly<Record<string, string>>;
  /** Reply-To, when configured. */
  readonly replyTo?: string | undefined;
}

/**
 * The part of a nodemailer `Transporter` this notifier uses.
 *
 * @example
 * ```ts
 * import nodemailer from "nodemailer";
 * const transport: SmtpTransportLike = nodemailer.createTransport({ host: "smtp.example.org", port: 587, auth });
 * const email = new SmtpNotifier({ transport, from: "nao-responda@example.org" });
 * ```
 */
export interface SmtpTransportLike {
  /** Sends one mail; resolves once the server accepted it. */
  sendMail(mail: SmtpMail): Promise<{ messageId?: string | undefined }>;
}

/** Options of {@link SmtpNotifier}. */
export interface SmtpNotifierOptions {
  /** A nodemailer transport (or anything with a compatible `sendMail`), owned and closed by the caller. */
  readonly transport: SmtpTransportLike;
  /** The sender (`"Plano Exemplo" <nao-responda@example.org>`). */
  readonly from: string;
  /** A fixed subject, instead of the template's. */
  readonly subject?: string | undefined;
  /** Reply-To address. */
  readonly replyTo?: string | undefined;
  /** Replacements of the default e-mail templates. */
  readonly templates?: TemplateOverrides | undefined;
  /** Values that must never appear in an error (the SMTP password, an API key). */
  readonly secrets?: readonly string[] | undefined;
}

/** SMTP failures worth retrying later: 4xx replies (RFC 5321 § 4.2.1) and connection-level errors. */
const RETRYABLE_CODES = new Set([
  "ECONNECTION",
  "ETIMEDOUT",
  "ESOCKET",
  "EDNS",
  "ECONNRESET",
  "ECONNREFUSED",
]);

const EMAIL = /^[^\s@<>()[\]\\,;:"]+@[^\s@<>()[\]\\,;:"]+\.[^\s@<>()[\]\\,;:"]+$/;

/**
 * The `cause` of a `DeliveryFailedError` from {@link SmtpNotifier}: the transport's error code and the SMTP
 * reply code, with the server's text redacted (recipient, code and configured secrets removed).
 *
 * @example
 * ```ts
 * try {
 *   await email.send(message);
 * } catch (error) {
 *   const cause = (error as DeliveryFailedError).cause;
 *   if (cause instanceof SmtpDeliveryError) console.log(cause.transportCode, cause.responseCode); // "EENVELOPE" 550
 * }
 * ```
 */
export class SmtpDeliveryError extends Error {
  /** nodemailer's error code (`EAUTH`, `EENVELOPE`, `ECONNECTION`, …). */
  readonly transportCode: string | undefined;
  /** The SMTP reply code (`550`, `421`, …), when the server answered. */
  readonly responseCode: number | undefined;

  /** @param fields - the codes and the redacted message */
  constructor(fields: {
    message: string;
    transportCode?: string | undefined;
    responseCode?: number | undefined;
  }) {
    super(fields.message);
    this.name = "SmtpDeliveryError";
    this.transportCode = fields.transportCode;
    this.responseCode = fields.responseCode;
  }
}

/**
 * A {@link Notifier} for the `email` channel over a caller-owned nodemailer transport.
 *
 * @example
 * ```ts
 * const email = new SmtpNotifier({ transport, from: "nao-responda@example.org" });
 * ```
 */
export class SmtpNotifier implements Notifier {
  readonly #options: SmtpNotifierOptions;

  /** @param options - the transport, sender and templates */
  constructor(options: SmtpNotifierOptions) {
    if (!options?.transport || typeof options.transport.sendMail !== "function") {
      throw new ConfigError("SmtpNotifier needs a transport with sendMail", { scope: "smtp" });
    }
    if (typeof options.from !== "string" || options.from.trim() === "") {
      throw new ConfigError("SmtpNotifier needs a from address", { scope: "smtp" });
    }
    this.#options = options;
  }

  /** Renders the e-mail template and hands the mail to the transport. */
  async send(message: TokenMessage): Promise<DeliveryReceipt> {
    const o = this.#options;
    if (message.channel !== "email") {
      throw new DeliveryFailedError(`cannot send a ${message.channel} message`, {
        scope: "smtp",
        providerCode: "unsupported_channel",
      });
    }
    if (!EMAIL.test(message.to)) {
      throw new DeliveryFailedError("recipient is not an e-mail address", {
        scope: "smtp",
        providerCode: "invalid_recipient",
      });
    }
    const rendered = renderTokenMessage(message, o.templates);
    const mail: SmtpMail = {
      from: o.from,
      to: message.to,
      subject: o.subject ?? rendered.subject,
      text: rendered.text,
      html: rendered.html,
      // RFC 3834: an automatic message; asks auto-responders not to answer.
      headers: { "Auto-Submitted": "auto-generated", "X-Auto-Response-Suppress": "All" },
      ...(o.replyTo ? { replyTo: o.replyTo } : {}),
    };
    try {
      const info = await o.transport.sendMail(mail);
      return {
        channel: "email",
        ...(typeof info?.messageId === "string" ? { providerMessageId: info.messageId } : {}),
      };
    } catch (error) {
      const e = (error ?? {}) as { code?: unknown; responseCode?: unknown; message?: unknown };
      const transportCode = typeof e.code === "string" ? e.code : undefined;
      const responseCode = typeof e.responseCode === "number" ? e.responseCode : undefined;
      const retryable =
        responseCode !== undefined
          ? responseCode >= 400 && responseCode < 500
          : transportCode !== undefined && RETRYABLE_CODES.has(transportCode);
      const secrets = [...(o.secrets ?? []), message.code, message.to];
      const cause = new SmtpDeliveryError({
        message: redact(typeof e.message === "string" ? e.message : String(error), secrets),
        ...(transportCode !== undefined ? { transportCode } : {}),
        ...(responseCode !== undefined ? { responseCode } : {}),
      });
      const providerCode = responseCode !== undefined ? String(responseCode) : transportCode;
      throw new DeliveryFailedError(
        `the SMTP transport refused the message${providerCode ? ` (${providerCode})` : ""}`,
        { scope: "smtp", cause, retryable, ...(providerCode !== undefined ? { providerCode } : {}) },
      );
    }
  }
}
