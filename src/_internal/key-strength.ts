/**
 * A sanity check of secret keys (internal): refuses keys that are clearly not random. It cannot prove a key
 * random; it catches the mistakes seen in practice: a zeroed buffer, a repeated character, a counting
 * sequence, a short human-chosen string.
 */

/** How to make a good key, quoted in every refusal. */
export const MAKE_A_KEY =
  "make one with `openssl rand -base64 32` (a string) or `crypto.getRandomValues(new Uint8Array(32))`";

/** Characters a text key needs: 43 base64 characters carry 256 bits. */
export const MIN_TEXT_KEY_LENGTH = 43;

function distinct(values: ArrayLike<number>): number {
  return new Set(Array.from(values)).size;
}

function deltas(values: ArrayLike<number>): number[] {
  const out: number[] = [];
  for (let i = 1; i < values.length; i++) out.push((values[i]! - values[i - 1]! + 256) & 255);
  return out;
}

/**
 * Why `key` is too weak to be a secret, or `undefined`. Bytes need at least 16 distinct values and 16 distinct
 * steps between neighbours (32 random bytes have about 30 of each; the odds that they have fewer than 16 are
 * below 10⁻¹⁵). A text key needs 43 characters and at least 10 distinct characters and steps (64 random hex
 * characters have about 16).
 */
export function weakKeyProblem(key: Uint8Array | string): string | undefined {
  if (typeof key === "string") {
    if (key.length < MIN_TEXT_KEY_LENGTH) {
      return `a text key needs at least ${MIN_TEXT_KEY_LENGTH} characters (got ${key.length})`;
    }
    const codes = Array.from(key, (c) => c.codePointAt(0)! & 255);
    if (new Set(key).size < 10 || distinct(deltas(codes)) < 10) {
      return "a text key with so few distinct characters or such a regular pattern is not random";
    }
    return undefined;
  }
  if (distinct(key) < 16 || distinct(deltas(key)) < 16) {
    return "a key with so few distinct bytes or such a regular pattern is not random";
  }
  return undefined;
}
