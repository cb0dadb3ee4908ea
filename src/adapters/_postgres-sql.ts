/**
 * The SQL of the PostgreSQL token store that both its statements and its step functions use (internal): the
 * attempt's outcome, the save that supersedes, and the fixed-window counter. Each takes the names of its
 * inputs (`$1`… in a statement, parameter names in a PL/pgSQL function), so one text serves both.
 */

/** The inputs of an attempt: the guide, the presenting provider, the candidate hash and the time (ms). */
export interface AttemptParams {
  readonly guide: string;
  readonly provider: string;
  readonly hash: string;
  readonly now: string;
}

/** The `UPDATE … SET … WHERE` of an attempt on `<s>.tokens AS t` (without `RETURNING`). */
export function attemptUpdate(s: string, p: AttemptParams): string {
  // The previous token's code, still within its life.
  const late = `COALESCE(t.prev_code_hash = ${p.hash}::text AND ${p.now}::bigint < t.prev_expires_at_ms, false)`;
  // Evaluated against the row as locked by the UPDATE (READ COMMITTED re-reads it after a concurrent commit).
  const outcome = `(CASE
      WHEN t.status IN ('revoked', 'consumed') THEN t.status
      WHEN ${p.now}::bigint >= t.expires_at_ms THEN 'expired'
      WHEN t.status = 'locked' THEN 'locked'
      WHEN t.provider_id <> ${p.provider}::text THEN 'wrong_provider'
      WHEN t.code_hash <> ${p.hash}::text AND ${late} THEN 'superseded'
      WHEN t.code_hash <> ${p.hash}::text THEN 'mismatch'
      ELSE 'ok' END)`;
  const counts = `(t.status = 'active' AND ${p.now}::bigint < t.expires_at_ms
      AND (t.provider_id <> ${p.provider}::text OR (t.code_hash <> ${p.hash}::text AND NOT ${late})))`;
  return `UPDATE ${s}.tokens AS t SET
          attempts = t.attempts + CASE WHEN ${counts} THEN 1 ELSE 0 END,
          status = CASE WHEN ${counts} AND t.attempts + 1 >= t.max_attempts THEN 'locked'
            WHEN ${outcome} = 'ok' THEN 'consumed' ELSE t.status END,
          last_outcome = ${outcome}
        WHERE t.guide_id = ${p.guide}::text`;
}

/** The columns of a token row, in the order `save` takes them (then `channel`). */
export const TOKEN_COLUMNS =
  "token_id, guide_id, provider_id, beneficiary_id, code_hash, issued_at_ms, expires_at_ms, max_attempts, attempts, status, channel";

/**
 * The save that supersedes, on `<s>.tokens AS t`, returning `superseded_token_id`. `values` are the nine
 * inputs in {@link TOKEN_COLUMNS} order without `attempts` and `status`.
 */
export function saveUpsert(s: string, values: readonly string[]): string {
  const [tokenId, guide, provider, beneficiary, hash, issued, expires, maxAttempts, channel] = values;
  const live = "t.status = 'active' AND t.expires_at_ms > EXCLUDED.issued_at_ms";
  return `INSERT INTO ${s}.tokens AS t (${TOKEN_COLUMNS}, last_outcome, superseded_token_id)
        VALUES (${tokenId}, ${guide}, ${provider}, ${beneficiary}, ${hash}, ${issued}, ${expires}, ${maxAttempts},
          0, 'active', ${channel}, NULL, NULL)
        ON CONFLICT (guide_id) DO UPDATE SET
          superseded_token_id = CASE WHEN ${live} THEN t.token_id END,
          prev_code_hash = CASE WHEN ${live} THEN t.code_hash END,
          prev_expires_at_ms = CASE WHEN ${live} THEN t.expires_at_ms END,
          token_id = EXCLUDED.token_id, provider_id = EXCLUDED.provider_id,
          beneficiary_id = EXCLUDED.beneficiary_id, code_hash = EXCLUDED.code_hash,
          issued_at_ms = EXCLUDED.issued_at_ms, expires_at_ms = EXCLUDED.expires_at_ms,
          max_attempts = EXCLUDED.max_attempts, attempts = 0, status = 'active', channel = EXCLUDED.channel,
          last_outcome = NULL
        RETURNING t.superseded_token_id`;
}

/** One hit on a fixed-window counter of `<s>.counters AS c`, returning `count, reset_at_ms`. */
export function counterHit(s: string, key: string, windowMs: string, now: string): string {
  return `INSERT INTO ${s}.counters AS c (key, count, reset_at_ms) VALUES (${key}, 1, ${now}::bigint + ${windowMs}::bigint)
        ON CONFLICT (key) DO UPDATE SET
          count = CASE WHEN c.reset_at_ms <= ${now}::bigint THEN 1 ELSE c.count + 1 END,
          reset_at_ms = CASE WHEN c.reset_at_ms <= ${now}::bigint THEN ${now}::bigint + ${windowMs}::bigint
            ELSE c.reset_at_ms END
        RETURNING c.count, c.reset_at_ms`;
}

/** One unit given back on a counter's live window (never below 0), returning `count, reset_at_ms` if asked. */
export function counterTakeBack(s: string, key: string, now: string, returning = true): string {
  return `UPDATE ${s}.counters AS c SET count = GREATEST(c.count - 1, 0)
        WHERE c.key = ${key} AND c.reset_at_ms > ${now}::bigint${returning ? "\n        RETURNING c.count, c.reset_at_ms" : ""}`;
}

/** Prefixes every column of a `, `-separated list with `alias.`. */
export function prefixed(alias: string, columns: string): string {
  return columns
    .split(", ")
    .map((c) => `${alias}.${c}`)
    .join(", ");
}
