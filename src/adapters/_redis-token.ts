/**
 * A token's record in `RedisTokenStore` (internal): the hash fields a save writes, and the token read back.
 *
 * @module
 */
import type { Channel } from "../ports/notifier.js";
import type { NewToken, StoredToken, TokenStatus } from "../ports/store.js";
import { tagOf } from "./_redis-keys.js";

/** The immutable fields of a token, stored as a JSON array in field `d` (compact: it is read on every attempt). */
type TokenData = [
  tokenId: string,
  guideId: string,
  providerId: string,
  beneficiaryId: string,
  codeHash: string,
  issuedAtMs: number,
  expiresAtMs: number,
  maxAttempts: number,
  channel: Channel,
];

/**
 * The hash fields of a new token that hold values of its own, in the order `tokenValues` gives them (see the
 * layout in `_redis-scripts.ts`; the save writes them with `s` `active` and `a` `0`).
 */
export const TOKEN_VALUE_FIELDS = ["d", "i", "e", "p", "h", "m", "b", "j", "k"] as const;

/** The values of a new token's `TOKEN_VALUE_FIELDS`, in that order. */
export function tokenValues(token: NewToken): string[] {
  const data: TokenData = [
    token.tokenId,
    token.guideId,
    token.providerId,
    token.beneficiaryId,
    token.codeHash,
    token.issuedAtMs,
    token.expiresAtMs,
    token.maxAttempts,
    token.channel,
  ];
  return [
    JSON.stringify(data),
    token.tokenId,
    String(token.expiresAtMs),
    token.providerId,
    token.codeHash,
    String(token.maxAttempts),
    tagOf(token.beneficiaryId),
    // the pieces of a verification's event JSON that come from the token (see the verify script)
    `,"beneficiaryId":${JSON.stringify(token.beneficiaryId)},"guideId":${JSON.stringify(token.guideId)}`,
    `,"tokenId":${JSON.stringify(token.tokenId)},"channel":${JSON.stringify(token.channel)}`,
  ];
}

const STATUSES: readonly string[] = ["active", "consumed", "revoked", "locked"];

/** The token of a script's `{d, s, a}` reply, or `undefined` when the reply is not one. */
export function parseToken(data: unknown, status: unknown, attempts: unknown): StoredToken | undefined {
  if (typeof data !== "string" || typeof status !== "string" || !STATUSES.includes(status)) return undefined;
  let d: TokenData;
  try {
    d = JSON.parse(data) as TokenData;
  } catch {
    return undefined;
  }
  if (!Array.isArray(d) || d.length !== 9) return undefined;
  return {
    tokenId: d[0],
    guideId: d[1],
    providerId: d[2],
    beneficiaryId: d[3],
    codeHash: d[4],
    issuedAtMs: d[5],
    expiresAtMs: d[6],
    maxAttempts: d[7],
    attempts: Number(attempts),
    status: status as TokenStatus,
    channel: d[8],
  };
}
