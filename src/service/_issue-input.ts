/**
 * The fast path of the issue input's validation (internal): the common, well-formed shape checked by hand, with
 * the same rules as the zod schema in `token-service.ts`. It answers the parsed input (a fresh copy holding the
 * schema's keys only, as zod's output does) or `undefined` whenever anything is unusual, and the caller then runs
 * the zod schema, whose errors stay the reference. So it may refuse more than the schema, never accept more.
 *
 * @module
 */
import type { Mutable } from "../_internal/mutable.js";
import { idProblem } from "../_internal/text.js";
import type { Channel } from "../ports/notifier.js";
import type { ContactInput, PersonInput } from "./delivery.js";

const DATE = /^\d{4}-\d{2}-\d{2}$/;
const MONTH_DAYS = [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/** The pattern a birth date must match (`YYYY-MM-DD`). */
export const DATE_PATTERN = DATE;

/** Whether a `YYYY-MM-DD` text is a calendar date (29 February only in leap years). */
export function isCalendarDate(text: string): boolean {
  const y = Number(text.slice(0, 4));
  const m = Number(text.slice(5, 7));
  const d = Number(text.slice(8, 10));
  if (m < 1 || m > 12 || d < 1 || d > MONTH_DAYS[m - 1]!) return false;
  return !(m === 2 && d === 29 && (y % 4 !== 0 || (y % 100 === 0 && y % 400 !== 0)));
}

const CHANNELS: ReadonlySet<unknown> = new Set(["app", "sms", "whatsapp", "email"]);
const ISSUE_KEYS: ReadonlySet<string> = new Set([
  "guide",
  "beneficiary",
  "guardian",
  "contactId",
  "channel",
  "context",
  "notAfterMs",
  "deadlineMs",
  "signal",
  "background",
]);
const CONTEXT_KEYS: ReadonlySet<string> = new Set(["guideRef", "providerName", "procedureSummary"]);
const CONTEXT_MAX: Readonly<Record<string, number>> = {
  guideRef: 64,
  providerName: 60,
  procedureSummary: 60,
};

/** The parsed issue input (the zod schema's output type). */
export interface FastIssueInput {
  readonly guide: { readonly id: string; readonly providerId: string };
  readonly beneficiary: PersonInput;
  readonly guardian?: PersonInput | undefined;
  readonly contactId?: string | undefined;
  readonly channel?: Channel | undefined;
  readonly context?:
    | {
        readonly guideRef?: string | undefined;
        readonly providerName?: string | undefined;
        readonly procedureSummary?: string | undefined;
      }
    | undefined;
  readonly notAfterMs?: number | undefined;
  readonly deadlineMs?: number | undefined;
  readonly signal?: AbortSignal | undefined;
  readonly background?: boolean | undefined;
}

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === "object" && value !== null && !Array.isArray(value);

/** A person in the common shape, copied; `undefined` when anything is off. */
export function fastPerson(value: unknown): PersonInput | undefined {
  if (!isObject(value)) return undefined;
  const { id, birthDate, contacts } = value;
  if (idProblem(id, 128) !== undefined) return undefined;
  if (typeof birthDate !== "string" || !DATE.test(birthDate) || !isCalendarDate(birthDate)) return undefined;
  if (birthDate < "1900-01-01" || !Array.isArray(contacts) || contacts.length > 20) return undefined;
  const copied: ContactInput[] = [];
  for (const contact of contacts as unknown[]) {
    if (!isObject(contact)) return undefined;
    const { id: contactId, channel, address } = contact;
    if (idProblem(contactId, 64) !== undefined || !CHANNELS.has(channel)) return undefined;
    if (idProblem(address, 320) !== undefined) return undefined;
    copied.push({ id: contactId as string, channel: channel as Channel, address: address as string });
  }
  return { id: id as string, birthDate, contacts: copied };
}

function fastContext(value: unknown): FastIssueInput["context"] {
  if (!isObject(value)) return undefined;
  const out: Record<string, string> = {};
  for (const key in value) {
    const max = CONTEXT_MAX[key];
    if (!CONTEXT_KEYS.has(key) || max === undefined) return undefined;
    const text = value[key];
    if (idProblem(text, max) !== undefined) return undefined;
    out[key] = text as string;
  }
  return out;
}

const isInt = (value: unknown, min: number, max: number): value is number =>
  typeof value === "number" && Number.isSafeInteger(value) && value >= min && value <= max;

/** The issue input in the common shape, parsed; `undefined` to let the zod schema decide. */
export function fastIssueInput(raw: unknown): FastIssueInput | undefined {
  if (!isObject(raw)) return undefined;
  for (const key in raw) if (!ISSUE_KEYS.has(key) || raw[key] === undefined) return undefined;
  const guide = raw.guide;
  if (!isObject(guide)) return undefined;
  if (idProblem(guide.id, 128) !== undefined || idProblem(guide.providerId, 128) !== undefined)
    return undefined;
  const beneficiary = fastPerson(raw.beneficiary);
  if (beneficiary === undefined) return undefined;
  const out: Mutable<FastIssueInput> = {
    guide: { id: guide.id as string, providerId: guide.providerId as string },
    beneficiary,
  };
  if ("guardian" in raw) {
    const guardian = fastPerson(raw.guardian);
    if (guardian === undefined) return undefined;
    out.guardian = guardian;
  }
  if ("contactId" in raw) {
    if (idProblem(raw.contactId, 64) !== undefined) return undefined;
    out.contactId = raw.contactId as string;
  }
  if ("channel" in raw) {
    if (!CHANNELS.has(raw.channel)) return undefined;
    out.channel = raw.channel as Channel;
  }
  if ("context" in raw) {
    const context = fastContext(raw.context);
    if (context === undefined) return undefined;
    out.context = context;
  }
  if ("notAfterMs" in raw) {
    if (!isInt(raw.notAfterMs, 0, Number.MAX_SAFE_INTEGER)) return undefined;
    out.notAfterMs = raw.notAfterMs;
  }
  if ("deadlineMs" in raw) {
    if (!isInt(raw.deadlineMs, 1, 600_000)) return undefined;
    out.deadlineMs = raw.deadlineMs;
  }
  if ("signal" in raw) return undefined; // rare: the schema checks it
  if ("background" in raw) {
    if (typeof raw.background !== "boolean") return undefined;
    out.background = raw.background;
  }
  return out;
}
