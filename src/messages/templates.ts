/**
 * The texts that carry a token: pt-BR (default) and en, per channel, overridable.
 *
 * Every default says four things and nothing more: the code, how long it is valid, "give it only to the
 * attendant at the time of your attendance", and "if you did not ask for it, report it". None carries a link
 * (WhatsApp's authentication templates forbid URLs, and a link next to a code is a phishing pattern), and none
 * names the beneficiary, a CPF or a card number. The app and e-mail defaults add what the code confirms
 * (`{context}`: the procedure summary, the provider's name, the guide's reference) when the message carries a
 * context; the SMS and WhatsApp defaults do not, to stay in one segment and in Meta's fixed template.
 *
 * The SMS defaults are GSM-7 only (no `ã`, `ç`, `õ`, `á`) and fit one 160-character segment with a code of up
 * to 10 digits, a validity of up to 99,999 minutes and an operator name of up to
 * {@link SMS_OPERATOR_NAME_MAX_UNITS} characters: in an SMS the operator name is stripped of accents, of
 * characters outside GSM-7, and cut to that length.
 *
 * @module
 */

import { argObject, argOptionalObject, argString } from "../_internal/args.js";
import { InvalidArgumentError } from "../errors.js";
import { CHANNELS, type Channel, type Locale, type TokenMessage } from "../ports/notifier.js";
import { toGsm7Name } from "./sms-encoding.js";

/**
 * One message template. Placeholders: `{code}`, `{minutes}` (validity in whole minutes, rounded up),
 * `{operator}` (the operator's display name), and from the message's context (empty when absent):
 * `{provider}`, `{procedure}`, `{guide}`, and `{context}` (a sentence naming what the code confirms, with a
 * leading space). Values are HTML-escaped when substituted into `html`; the rest of
 * `html` is trusted markup.
 */
export interface MessageTemplate {
  /** E-mail subject, or push title. */
  readonly subject: string;
  /** Plain text: the SMS body, the e-mail text part, the push body. */
  readonly text: string;
  /** HTML (the e-mail HTML part). When absent, derived from `text` (escaped, line breaks kept). */
  readonly html?: string | undefined;
}

/** A replacement of some fields of a {@link MessageTemplate}; a field left out (or `undefined`) keeps the default. */
export type MessageTemplateOverride = {
  readonly [K in keyof MessageTemplate]?: MessageTemplate[K] | undefined;
};

/**
 * Per-locale, per-channel replacements of the default templates. A field left out keeps the default, except
 * that an override giving `text` without `html` gets its HTML derived from the new text.
 */
export type TemplateOverrides = {
  readonly [L in Locale]?: { readonly [C in Channel]?: MessageTemplateOverride | undefined } | undefined;
};

/** A rendered message, ready for a notifier. */
export interface RenderedMessage {
  /** E-mail subject, or push title (one line). */
  readonly subject: string;
  /** Plain text. */
  readonly text: string;
  /** HTML, with every substituted value escaped. */
  readonly html: string;
}

/** The fields of a {@link TokenMessage} that a template reads. */
export type TemplateInput = Pick<
  TokenMessage,
  "code" | "ttlSeconds" | "channel" | "locale" | "operatorName"
> &
  Partial<Pick<TokenMessage, "context">>;

/** In an SMS, the operator name is cut to this many GSM-7 characters (after its accents are stripped). */
export const SMS_OPERATOR_NAME_MAX_UNITS = 20;

/** What `{operator}` becomes when the message has no operator name. */
export const DEFAULT_OPERATOR_NAME: Readonly<Record<Locale, string>> = Object.freeze({
  "pt-BR": "Plano de saúde",
  en: "Health plan",
});

const PT_EMAIL_TEXT = [
  "Olá,",
  "",
  "Seu token de atendimento é: {code}",
  "",
  "Ele vale por {minutes} minutos e só pode ser usado uma vez.{context}",
  "Informe-o apenas ao atendente, no momento do seu atendimento. Não o envie a ninguém por telefone, e-mail ou mensagem.",
  "",
  "Se você não pediu este token, avise a operadora do seu plano: alguém pode estar usando o seu nome.",
  "",
  "{operator}",
].join("\n");

const PT_EMAIL_HTML = [
  '<!doctype html><html lang="pt-BR"><body style="font-family:sans-serif;line-height:1.5">',
  "<p>Olá,</p>",
  '<p>Seu token de atendimento é:</p><p style="font-size:28px;font-weight:bold;letter-spacing:4px">{code}</p>',
  "<p>Ele vale por {minutes} minutos e só pode ser usado uma vez.{context}<br>",
  "<strong>Informe-o apenas ao atendente, no momento do seu atendimento.</strong> ",
  "Não o envie a ninguém por telefone, e-mail ou mensagem.</p>",
  "<p>Se você não pediu este token, avise a operadora do seu plano: alguém pode estar usando o seu nome.</p>",
  "<p>{operator}</p>",
  "</body></html>",
].join("");

const EN_EMAIL_TEXT = [
  "Hello,",
  "",
  "Your attendance token is: {code}",
  "",
  "It is valid for {minutes} minutes and can be used once.{context}",
  "Give it only to the attendant, at the time of your attendance. Never send it to anyone by phone, e-mail or message.",
  "",
  "If you did not ask for this token, report it to your health plan: someone may be using your name.",
  "",
  "{operator}",
].join("\n");

const EN_EMAIL_HTML = [
  '<!doctype html><html lang="en"><body style="font-family:sans-serif;line-height:1.5">',
  "<p>Hello,</p>",
  '<p>Your attendance token is:</p><p style="font-size:28px;font-weight:bold;letter-spacing:4px">{code}</p>',
  "<p>It is valid for {minutes} minutes and can be used once.{context}<br>",
  "<strong>Give it only to the attendant, at the time of your attendance.</strong> ",
  "Never send it to anyone by phone, e-mail or message.</p>",
  "<p>If you did not ask for this token, report it to your health plan: someone may be using your name.</p>",
  "<p>{operator}</p>",
  "</body></html>",
].join("");

/** The built-in templates, per locale and channel. */
export const DEFAULT_TEMPLATES: Readonly<Record<Locale, Readonly<Record<Channel, MessageTemplate>>>> =
  Object.freeze({
    "pt-BR": Object.freeze({
      sms: {
        subject: "Token de atendimento",
        text: "{operator}: token de atendimento {code}, vale {minutes} min. Informe-o apenas ao atendente, na hora do atendimento. Pedido desconhecido? Avise-nos.",
      },
      whatsapp: {
        subject: "Token de atendimento",
        text: "*{code}* é o seu token de atendimento ({operator}), válido por {minutes} minutos. Informe-o apenas ao atendente, no momento do seu atendimento. Não pediu este token? Avise a operadora.",
      },
      email: { subject: "{operator}: seu token de atendimento", text: PT_EMAIL_TEXT, html: PT_EMAIL_HTML },
      app: {
        subject: "Token de atendimento",
        text: "Seu token é {code}, válido por {minutes} min.{context} Informe-o apenas ao atendente, no momento do atendimento. Não pediu? Avise-nos.",
      },
    }),
    en: Object.freeze({
      sms: {
        subject: "Attendance token",
        text: "{operator}: attendance token {code}, valid {minutes} min. Give it only to the attendant, at the time of your attendance. Not requested? Report it.",
      },
      whatsapp: {
        subject: "Attendance token",
        text: "*{code}* is your attendance token ({operator}), valid for {minutes} minutes. Give it only to the attendant, at the time of your attendance. Did not ask for it? Report it to your health plan.",
      },
      email: { subject: "{operator}: your attendance token", text: EN_EMAIL_TEXT, html: EN_EMAIL_HTML },
      app: {
        subject: "Attendance token",
        text: "Your token is {code}, valid for {minutes} min.{context} Give it only to the attendant, at the time of your attendance. Not requested? Report it.",
      },
    }),
  });

/**
 * Escapes the five HTML-significant characters.
 *
 * @example
 * ```ts
 * escapeHtml(`<b>"O'Brien" & co</b>`); // "&lt;b&gt;&quot;O&#39;Brien&quot; &amp; co&lt;/b&gt;"
 * ```
 */
export function escapeHtml(value: string): string {
  argString(value, "value");
  return value
    .replace(/&/g, "&amp;")
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;")
    .replace(/"/g, "&quot;")
    .replace(/'/g, "&#39;");
}

const PLACEHOLDER = /\{([A-Za-z_][A-Za-z0-9_]*)\}/g;
const KNOWN = new Set(["code", "minutes", "operator", "provider", "procedure", "guide", "context"]);

/** The `{context}` sentence: what the code confirms, with a leading space; empty without a context. */
function contextSentence(message: TemplateInput): string {
  const c = message.context;
  if (!c) return "";
  const en = message.locale === "en";
  const what = c.procedureSummary?.trim();
  const where = c.providerName?.trim();
  const guide = c.guideRef?.trim();
  const parts = [what, where ? `${en ? "at" : "em"} ${where}` : undefined].filter(Boolean).join(" ");
  const ref = guide ? `${en ? "guide" : "guia"} ${guide}` : "";
  const body = parts && ref ? `${parts} (${ref})` : parts || ref;
  return body ? ` ${en ? "It confirms" : "Ele confirma"}: ${body}.` : "";
}

function substitute(template: string, values: Record<string, string>, field: string): string {
  return template.replace(PLACEHOLDER, (whole, name: string) => {
    if (!KNOWN.has(name)) {
      throw new InvalidArgumentError(`unknown placeholder {${name}} in the ${field} template`, [
        {
          path: field,
          message: `unknown placeholder {${name}}; use {code}, {minutes}, {operator}, {provider}, {procedure}, {guide} or {context}`,
        },
      ]);
    }
    return values[name] ?? whole;
  });
}

function textToHtml(text: string): string {
  return `<p>${text.split("\n").join("<br>")}</p>`;
}

/**
 * Picks the template for a locale and channel, with the overrides applied.
 *
 * @example
 * ```ts
 * const template = resolveTemplate("pt-BR", "sms", {
 *   "pt-BR": { sms: { text: "{operator}: seu token é {code}, vale {minutes} min." } },
 * });
 * ```
 */
export function resolveTemplate(
  locale: Locale,
  channel: Channel,
  overrides?: TemplateOverrides,
): MessageTemplate {
  argString(locale, "locale");
  argString(channel, "channel");
  argOptionalObject(overrides, "overrides");
  const base = DEFAULT_TEMPLATES[locale][channel];
  const override = overrides?.[locale]?.[channel];
  if (!override) return base;
  const text = override.text ?? base.text;
  const html = override.html ?? (override.text !== undefined ? undefined : base.html);
  return {
    subject: override.subject ?? base.subject,
    text,
    ...(html !== undefined ? { html } : {}),
  };
}

/**
 * Renders a token message with the template for its locale and channel.
 *
 * In an SMS, `{operator}` is made GSM-7-safe (accents stripped, cut to {@link SMS_OPERATOR_NAME_MAX_UNITS}
 * characters) so that the default stays in one segment; elsewhere it is the name as given. The subject is one
 * line (line breaks become spaces). Throws `InvalidArgumentError` for an empty code, a non-positive TTL, an
 * unknown locale or channel, or an unknown placeholder in a template.
 *
 * @param message - the code, TTL, channel, locale and operator name
 * @param overrides - replacements of the default templates
 *
 * @example
 * ```ts
 * const { text } = renderTokenMessage({
 *   code: "123456", ttlSeconds: 1800, channel: "sms", locale: "pt-BR", operatorName: "Unimed Exemplo",
 * });
 * // "Unimed Exemplo: token de atendimento 123456, vale 30 min. Informe-o apenas ao atendente, …"
 * ```
 */
export function renderTokenMessage(message: TemplateInput, overrides?: TemplateOverrides): RenderedMessage {
  argObject(message, "message");
  argOptionalObject(overrides, "overrides");
  const issues: { path: string; message: string }[] = [];
  if (typeof message.code !== "string" || message.code.length === 0) {
    issues.push({ path: "code", message: "must be a non-empty string" });
  }
  if (!Number.isFinite(message.ttlSeconds) || message.ttlSeconds <= 0) {
    issues.push({ path: "ttlSeconds", message: "must be a positive number" });
  }
  if (!CHANNELS.includes(message.channel)) issues.push({ path: "channel", message: "unknown channel" });
  if (!Object.hasOwn(DEFAULT_TEMPLATES, message.locale)) {
    issues.push({ path: "locale", message: "unknown locale; use pt-BR or en" });
  }
  if (issues.length > 0) throw new InvalidArgumentError("invalid token message", issues);

  const template = resolveTemplate(message.locale, message.channel, overrides);
  const rawOperator = message.operatorName?.trim() || DEFAULT_OPERATOR_NAME[message.locale];
  const operator =
    message.channel === "sms"
      ? toGsm7Name(rawOperator, SMS_OPERATOR_NAME_MAX_UNITS) ||
        toGsm7Name(DEFAULT_OPERATOR_NAME[message.locale], SMS_OPERATOR_NAME_MAX_UNITS)
      : rawOperator;
  const values = {
    code: message.code,
    minutes: String(Math.max(1, Math.ceil(message.ttlSeconds / 60))),
    operator,
    provider: message.context?.providerName ?? "",
    procedure: message.context?.procedureSummary ?? "",
    guide: message.context?.guideRef ?? "",
    context: contextSentence(message),
  };
  const escaped = {
    code: escapeHtml(values.code),
    minutes: values.minutes,
    operator: escapeHtml(values.operator),
    provider: escapeHtml(values.provider),
    procedure: escapeHtml(values.procedure),
    guide: escapeHtml(values.guide),
    context: escapeHtml(values.context),
  };
  const text = substitute(template.text, values, "text");
  const subject = substitute(template.subject, values, "subject").replace(/\s+/g, " ").trim();
  const html =
    template.html !== undefined
      ? substitute(template.html, escaped, "html")
      : textToHtml(substitute(escapeHtml(template.text), escaped, "text"));
  return { subject, text, html };
}
