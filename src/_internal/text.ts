/**
 * Text checks and encodings shared by the input schemas and the store keys (internal).
 *
 * A string with a lone UTF-16 surrogate is not well formed: on its way to Redis or PostgreSQL it becomes
 * U+FFFD, so two distinct ids would meet as one. Every id the library accepts is therefore well formed, and
 * every id that becomes part of a store key is percent-encoded, so no key holds NUL, a separator or a brace.
 */

/** Matches a lone surrogate (with the `u` flag, paired surrogates form one code point and do not match). */
const LONE_SURROGATE = /\p{Cs}/u;

/** Whether `text` is well-formed UTF-16 (no lone surrogate). */
export function isWellFormed(text: string): boolean {
  return !LONE_SURROGATE.test(text);
}

/** The message of the refinement, shared by every schema. */
export const NOT_WELL_FORMED = "must be well-formed Unicode (no lone surrogates)";

const SAFE_KEY_PART = /^[A-Za-z0-9._~-]*$/;
const encoder = new TextEncoder();
const HEX = "0123456789ABCDEF";

/**
 * An id as one part of a store key: unchanged when it holds only `A-Z a-z 0-9 . _ ~ -`, otherwise every other
 * byte of its UTF-8 becomes `%XX`. Injective on well-formed strings, and the result holds no NUL, `:`, `{`,
 * `}`, quote or space. Callers pass validated (well-formed) ids.
 */
export function keyPart(id: string): string {
  if (SAFE_KEY_PART.test(id)) return id;
  let out = "";
  for (const byte of encoder.encode(id)) {
    const c = String.fromCharCode(byte);
    out += byte < 0x80 && SAFE_KEY_PART.test(c) ? c : `%${HEX[byte >> 4]}${HEX[byte & 15]}`;
  }
  return out;
}

/**
 * Whether `text` holds a control character (U+0000–U+001F or U+007F): never part of an id (PostgreSQL `text`
 * refuses NUL; logs and headers split on CR/LF).
 */
export function hasControl(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x20 || c === 0x7f) return true;
  }
  return false;
}

/**
 * Why `value` is not a valid id of 1 to `max` characters (well formed, no control characters), or
 * `undefined` when it is one.
 */
export function idProblem(value: unknown, max: number): string | undefined {
  if (typeof value !== "string") return "expected a string";
  if (value.length === 0 || value.length > max) return `expected 1 to ${max} characters`;
  if (!isWellFormed(value)) return NOT_WELL_FORMED;
  if (hasControl(value)) return "must not contain control characters";
  return undefined;
}
