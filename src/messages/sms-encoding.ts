/**
 * SMS length arithmetic: which encoding a text needs and how many segments it takes.
 *
 * An SMS carries 140 bytes. In the GSM 03.38 7-bit alphabet (3GPP TS 23.038 § 6.2.1) that is 160 characters;
 * the characters of the extension table (§ 6.2.1.1: `^ { } \ [ ~ ] | €` and form feed) take an escape plus the
 * character, so they count twice. One character outside both tables (pt-BR's `ã`, `ç`, `õ`, `á`, an emoji)
 * switches the whole message to UCS-2: 70 UTF-16 code units. A longer message is split into concatenated
 * segments whose user-data header (3GPP TS 23.040 § 9.2.3.24.1) leaves 153 GSM-7 units or 67 UCS-2 units each;
 * an escape pair or a surrogate pair is never split across two segments.
 *
 * @module
 */
import { argInt, argString } from "../_internal/args.js";

/** The encoding an SMS needs. */
export type SmsEncoding = "GSM-7" | "UCS-2";

/** What {@link countSmsSegments} found. */
export interface SmsSegmentCount {
  /** `GSM-7` when every character is in the GSM 03.38 basic or extension table, else `UCS-2`. */
  readonly encoding: SmsEncoding;
  /** Septets (GSM-7: extension characters count 2) or UTF-16 code units (UCS-2). */
  readonly units: number;
  /** Segments the text takes (0 for the empty text). */
  readonly segments: number;
}

/** The GSM 03.38 basic character set (without the escape code). */
const GSM7_BASIC =
  "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà";

/** The GSM 03.38 extension table: each is sent as ESC + character (2 septets). */
const GSM7_EXTENSION = "\f^{}\\[~]|€";

const BASIC = new Set(GSM7_BASIC);
const EXTENSION = new Set(GSM7_EXTENSION);

/** Single-segment and per-segment (concatenated) capacities. */
const LIMITS = {
  "GSM-7": { single: 160, multi: 153 },
  "UCS-2": { single: 70, multi: 67 },
} as const;

/**
 * Whether every character of `text` can be sent in GSM-7 (basic or extension table).
 *
 * @example
 * ```ts
 * isGsm7("Token 123456"); // true: 160 characters per SMS
 * isGsm7("Saúde");        // false: "ú" forces UCS-2, 70 characters per SMS
 * ```
 */
export function isGsm7(text: string): boolean {
  argString(text, "text");
  for (const char of text) {
    if (!BASIC.has(char) && !EXTENSION.has(char)) return false;
  }
  return true;
}

/**
 * Counts the encoding, units and segments of an SMS text, the way carriers and providers (Twilio, Zenvia) bill
 * it.
 *
 * @param text - the SMS body
 * @returns the encoding, the units (GSM-7 septets or UTF-16 code units) and the segments
 *
 * @example
 * ```ts
 * countSmsSegments("Seu token: 123456");   // { encoding: "GSM-7", units: 17, segments: 1 }
 * countSmsSegments("Atenção: 123456");     // { encoding: "UCS-2", units: 15, segments: 1 }
 * countSmsSegments("x".repeat(161));       // { encoding: "GSM-7", units: 161, segments: 2 }
 * ```
 */
export function countSmsSegments(text: string): SmsSegmentCount {
  argString(text, "text");
  const gsm = isGsm7(text);
  const encoding: SmsEncoding = gsm ? "GSM-7" : "UCS-2";
  // Width of each indivisible piece: GSM-7 extension characters are 2 septets; in UCS-2 an astral code point
  // is a surrogate pair (2 units). Neither may straddle a segment boundary.
  const widths: number[] = [];
  for (const char of text) {
    widths.push(gsm ? (EXTENSION.has(char) ? 2 : 1) : char.length);
  }
  const units = widths.reduce((sum, w) => sum + w, 0);
  const limit = LIMITS[encoding];
  if (units === 0) return { encoding, units, segments: 0 };
  if (units <= limit.single) return { encoding, units, segments: 1 };
  let segments = 1;
  let used = 0;
  for (const width of widths) {
    if (used + width > limit.multi) {
      segments++;
      used = 0;
    }
    used += width;
  }
  return { encoding, units, segments };
}

/**
 * Makes a name safe for a GSM-7 SMS: accents stripped (`São Lucas Saúde` → `Sao Lucas Saude`), whitespace
 * collapsed, characters outside the GSM-7 basic table dropped, and cut to `maxUnits` septets (at the last
 * whole word when that keeps at least half of them).
 *
 * @param name - a display name
 * @param maxUnits - the most septets to keep
 *
 * @example
 * ```ts
 * toGsm7Name("São Lucas Saúde", 11); // "Sao Lucas": accents stripped, cut at a whole word
 * ```
 */
export function toGsm7Name(name: string, maxUnits: number): string {
  argString(name, "name");
  argInt(maxUnits, "maxUnits", 0, 10_000);
  const stripped = name
    .normalize("NFD")
    .replace(/[\u0300-\u036f]/g, "")
    .replace(/\s+/g, " ")
    .trim();
  let out = "";
  let cut = false;
  for (const char of stripped) {
    if (!BASIC.has(char) || char === "\n" || char === "\r") continue;
    if (out.length + 1 > maxUnits) {
      cut = char !== " ";
      break;
    }
    out += char;
  }
  // Cut mid-word: end at the last whole word when that keeps at least half of the room.
  const lastSpace = out.lastIndexOf(" ");
  if (cut && lastSpace >= maxUnits / 2) out = out.slice(0, lastSpace);
  return out.trim();
}
