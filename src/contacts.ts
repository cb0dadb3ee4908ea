/**
 * Contacts: Brazilian phone numbers to E.164, e-mail validation, and the masks shown in lists, events and
 * logs. The public helpers are re-exported from the root entry.
 */

import { argString } from "./_internal/args.js";
import type { Channel } from "./ports/notifier.js";

/** Every Brazilian area code (DDD) in service (Anatel). */
const DDD = new Set([
  11, 12, 13, 14, 15, 16, 17, 18, 19, 21, 22, 24, 27, 28, 31, 32, 33, 34, 35, 37, 38, 41, 42, 43, 44, 45, 46,
  47, 48, 49, 51, 53, 54, 55, 61, 62, 63, 64, 65, 66, 67, 68, 69, 71, 73, 74, 75, 77, 79, 81, 82, 83, 84, 85,
  86, 87, 88, 89, 91, 92, 93, 94, 95, 96, 97, 98, 99,
]);

/** A phone number after {@link normalizePhone}. */
export interface NormalizedPhone {
  /** E.164: `+5543999991234`. */
  readonly e164: string;
  /** A Brazilian mobile (nine digits starting with 9), or a foreign number (assumed mobile). */
  readonly mobile: boolean;
}

const PHONE_CHARS = /^\+?[0-9 ().\-\u00a0]+$/;

function nationalBR(national: string): NormalizedPhone | undefined {
  if (national.length !== 10 && national.length !== 11) return undefined;
  const ddd = Number(national.slice(0, 2));
  if (!DDD.has(ddd)) return undefined;
  const subscriber = national.slice(2);
  if (subscriber.length === 9 && subscriber[0] === "9") return { e164: `+55${national}`, mobile: true };
  if (subscriber.length === 8 && subscriber[0]! >= "2" && subscriber[0]! <= "5") {
    return { e164: `+55${national}`, mobile: false };
  }
  return undefined;
}

/**
 * Normalizes a phone number to E.164, or returns `undefined` when it is not a valid number.
 *
 * Brazilian numbers are accepted in the usual written forms: `(43) 99999-1234`, `43999991234`,
 * `043 9 9999 1234` (trunk prefix), `0 15 43 99999-1234` (carrier selection), `55 43 99999 1234`,
 * `+55 (43) 99999-1234`. The area code must exist, a mobile has nine digits starting with 9 and a
 * landline eight digits starting with 2–5. Numbers of other countries must be written with `+` and
 * have 8–15 digits.
 *
 * @example
 * ```ts
 * normalizePhone("(43) 99999-1234"); // { e164: "+5543999991234", mobile: true }
 * normalizePhone("12345");           // undefined
 * ```
 */
export function normalizePhone(input: string): NormalizedPhone | undefined {
  if (typeof input !== "string" || input.length > 40 || !PHONE_CHARS.test(input.trim())) return undefined;
  const trimmed = input.trim();
  const digits = trimmed.replace(/[^0-9]/g, "");
  if (trimmed.startsWith("+")) {
    if (digits.startsWith("55")) return nationalBR(digits.slice(2));
    if (digits.length < 8 || digits.length > 15 || digits[0] === "0") return undefined;
    return { e164: `+${digits}`, mobile: true };
  }
  if (digits.startsWith("0")) {
    if (digits.length === 11 || digits.length === 12) return nationalBR(digits.slice(1));
    if (digits.length === 13 || digits.length === 14) return nationalBR(digits.slice(3));
    return undefined;
  }
  if (digits.startsWith("55") && (digits.length === 12 || digits.length === 13)) {
    return nationalBR(digits.slice(2));
  }
  return nationalBR(digits);
}

/**
 * Masks an E.164 number for display: `+5543999991234` → `(43) 9****-1234`, a landline `(43) 3***-1234`,
 * a foreign number `+*******1234`. Only the area code, the first digit and the last four remain.
 *
 * @example
 * ```ts
 * maskPhone("+5543999991234"); // "(43) 9****-1234"
 * ```
 */
export function maskPhone(e164: string): string {
  argString(e164, "e164");
  if (e164.startsWith("+55") && (e164.length === 13 || e164.length === 14)) {
    const ddd = e164.slice(3, 5);
    const subscriber = e164.slice(5);
    return `(${ddd}) ${subscriber[0]}${"*".repeat(subscriber.length - 5)}-${subscriber.slice(-4)}`;
  }
  const digits = e164.replace(/[^0-9]/g, "");
  return `+${"*".repeat(Math.max(0, digits.length - 4))}${digits.slice(-4)}`;
}

const LOCAL_PART = /^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*$/;
const DOMAIN_LABEL = /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/;
const TLD = /^(?:[A-Za-z]{2,63}|xn--[A-Za-z0-9-]{1,59})$/;

/**
 * Validates an e-mail address (the dot-atom form of RFC 5322 §3.4.1 on an Internet domain with at least two
 * labels; no quoted local parts, no IP literals) and returns it trimmed with the domain lower-cased, or
 * `undefined` when it is not valid.
 *
 * @example
 * ```ts
 * normalizeEmail("  Joao.Silva@Example.COM.br "); // "Joao.Silva@example.com.br"
 * normalizeEmail("joao@localhost");              // undefined: one label
 * ```
 */
export function normalizeEmail(input: string): string | undefined {
  if (typeof input !== "string") return undefined;
  const text = input.trim();
  if (text.length < 3 || text.length > 254) return undefined;
  const at = text.lastIndexOf("@");
  if (at <= 0 || at !== text.indexOf("@")) return undefined;
  const local = text.slice(0, at);
  const domain = text.slice(at + 1).toLowerCase();
  if (local.length > 64 || !LOCAL_PART.test(local)) return undefined;
  if (domain.length > 253) return undefined;
  const labels = domain.split(".");
  if (labels.length < 2 || !labels.every((l) => DOMAIN_LABEL.test(l))) return undefined;
  if (!TLD.test(labels[labels.length - 1]!)) return undefined;
  return `${local}@${domain}`;
}

/**
 * Masks an e-mail address: `joao.silva@example.com.br` → `j***@e***.com.br`.
 *
 * @example
 * ```ts
 * maskEmail("joao.silva@example.com.br"); // "j***@e***.com.br"
 * ```
 */
export function maskEmail(email: string): string {
  argString(email, "email");
  const at = email.lastIndexOf("@");
  const local = at > 0 ? email.slice(0, at) : email;
  const domain = at > 0 ? email.slice(at + 1) : "";
  const dot = domain.indexOf(".");
  const head = dot > 0 ? domain.slice(0, dot) : domain;
  const rest = dot > 0 ? domain.slice(dot) : "";
  return `${local.slice(0, 1)}***@${head.slice(0, 1)}***${rest}`;
}

const APP_ID = /^[\x21-\x7e]{1,200}$/;

/** Masks an app device or user id: `app ****` and its last four characters. */
export function maskAppId(id: string): string {
  return id.length > 8 ? `app ****${id.slice(-4)}` : "app ****";
}

/**
 * Validates and normalizes a contact address for its channel: E.164 for `sms` (mobiles only) and `whatsapp`,
 * a valid e-mail for `email`, a printable id without spaces for `app`. `undefined` when invalid.
 *
 * @example
 * ```ts
 * normalizeContactAddress("sms", "(43) 99999-1234"); // "+5543999991234"
 * normalizeContactAddress("sms", "(43) 3333-1234");  // undefined: a landline takes no SMS
 * normalizeContactAddress("email", "A@B.com");       // "A@b.com"
 * ```
 */
export function normalizeContactAddress(channel: Channel, address: string): string | undefined {
  switch (channel) {
    case "sms": {
      const phone = normalizePhone(address);
      return phone?.mobile ? phone.e164 : undefined;
    }
    case "whatsapp":
      return normalizePhone(address)?.e164;
    case "email":
      return normalizeEmail(address);
    case "app":
      return APP_ID.test(address) ? address : undefined;
  }
}

/**
 * Masks a normalized contact address for its channel (see {@link maskPhone}, {@link maskEmail}).
 *
 * @example
 * ```ts
 * maskContact("sms", "+5543999991234");            // "(43) 9****-1234"
 * maskContact("email", "joao.silva@example.com.br"); // "j***@e***.com.br"
 * maskContact("app", "device-1234567890");         // "app ****7890"
 * ```
 */
export function maskContact(channel: Channel, address: string): string {
  switch (channel) {
    case "sms":
    case "whatsapp":
      return maskPhone(address);
    case "email":
      return maskEmail(address);
    case "app":
      return maskAppId(address);
  }
}
