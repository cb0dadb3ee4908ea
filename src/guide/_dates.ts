/**
 * Calendar days in America/Sao_Paulo, which has been UTC−03:00 all year since daylight saving time was
 * abolished in 2019. Internal: never exported from an entry.
 */

/** Milliseconds in a day. */
export const DAY_MS = 86_400_000;

/** São Paulo's offset from UTC: local time = UTC − 3 h. */
const OFFSET_MS = 3 * 3_600_000;

const DATE_RE = /^(\d{4})-(\d{2})-(\d{2})$/;

/** Days since 1970-01-01 of a `YYYY-MM-DD` calendar date, or `undefined` when it is not a real date. */
export function dayNumberOfDate(date: string): number | undefined {
  const m = DATE_RE.exec(date);
  if (!m) return undefined;
  const y = Number(m[1]);
  const mo = Number(m[2]);
  const d = Number(m[3]);
  if (y < 1900 || mo < 1 || mo > 12 || d < 1 || d > 31) return undefined;
  const ms = Date.UTC(y, mo - 1, d);
  const back = new Date(ms);
  if (back.getUTCFullYear() !== y || back.getUTCMonth() !== mo - 1 || back.getUTCDate() !== d)
    return undefined;
  return ms / DAY_MS;
}

/** The São Paulo calendar day (days since 1970-01-01) that contains the instant `atMs`. */
export function saoPauloDayOf(atMs: number): number {
  return Math.floor((atMs - OFFSET_MS) / DAY_MS);
}

/** The instant (ms since the epoch) at which the São Paulo calendar day `day` ends (exclusive). */
export function endOfSaoPauloDayMs(day: number): number {
  return (day + 1) * DAY_MS + OFFSET_MS;
}
