/**
 * What the receipt parsers share (internal): reading headers of any shape, the raw body as bytes and text,
 * hex/base64 of HMACs, and the freshness check of a provider's timestamp.
 */
import { utf8ToBytes } from "@noble/hashes/utils.js";
import { constantTimeEqualString } from "../../_internal/constant-time.js";
import { ReceiptRejectedError, type ReceiptRejectReason } from "../../errors.js";
import type { CallbackHeaders } from "../../ports/delivery-report.js";

/** Reads one header, case-insensitively; several values are joined with `,`. */
export function headerOf(headers: CallbackHeaders | undefined, name: string): string | undefined {
  if (headers === undefined || headers === null || typeof headers !== "object") return undefined;
  if (typeof (headers as { get?: unknown }).get === "function") {
    return (headers as { get(n: string): string | null }).get(name) ?? undefined;
  }
  const lower = name.toLowerCase();
  for (const [key, value] of Object.entries(headers as Record<string, unknown>)) {
    if (key.toLowerCase() !== lower) continue;
    if (typeof value === "string") return value;
    if (Array.isArray(value)) return value.join(",");
  }
  return undefined;
}

/** The largest callback body read (providers' status callbacks are a few kilobytes). */
export const MAX_BODY_BYTES = 1_000_000;

/** The raw body as bytes and as text; refuses a body too large or not UTF-8. */
export function rawBodyOf(scope: string, rawBody: string | Uint8Array): { bytes: Uint8Array; text: string } {
  if (typeof rawBody === "string") {
    if (rawBody.length > MAX_BODY_BYTES) throw reject(scope, "malformed", "body too large");
    return { bytes: utf8ToBytes(rawBody), text: rawBody };
  }
  if (!(rawBody instanceof Uint8Array))
    throw reject(scope, "malformed", "the raw body must be a string or bytes");
  if (rawBody.length > MAX_BODY_BYTES) throw reject(scope, "malformed", "body too large");
  try {
    return { bytes: rawBody, text: new TextDecoder("utf-8", { fatal: true }).decode(rawBody) };
  } catch {
    throw reject(scope, "malformed", "body is not UTF-8");
  }
}

/** A typed refusal with the parser's scope. */
export function reject(scope: string, reason: ReceiptRejectReason, message: string): ReceiptRejectedError {
  return new ReceiptRejectedError(reason, message, { scope });
}

/** Refuses a provider timestamp older than `maxAgeSeconds` or more than 5 minutes in the future. */
export function assertFresh(scope: string, atMs: number, nowMs: number, maxAgeSeconds: number): void {
  if (!Number.isFinite(atMs)) throw reject(scope, "malformed", "unreadable timestamp");
  if (nowMs - atMs > maxAgeSeconds * 1000) throw reject(scope, "stale", "the report is older than allowed");
  if (atMs - nowMs > 300_000) throw reject(scope, "stale", "the report is dated in the future");
}

/** Lowercase hex of bytes. */
export { bytesToHex } from "@noble/hashes/utils.js";

/** Standard base64 (with padding) of bytes. */
export function base64Of(bytes: Uint8Array): string {
  let binary = "";
  for (const b of bytes) binary += String.fromCharCode(b);
  return btoa(binary);
}

/** A secret or several (rotation); empty strings dropped. */
export function secretsOf(secret: string | readonly string[]): string[] {
  return (typeof secret === "string" ? [secret] : [...secret]).filter(
    (s) => typeof s === "string" && s.length > 0,
  );
}

/** A short, bounded string field of a callback, or `undefined`. */
export function shortString(value: unknown, max = 200): string | undefined {
  return typeof value === "string" && value.length > 0 && value.length <= max ? value : undefined;
}

/** A provider error code, given as a string or an integer, or `undefined`. */
export function codeString(value: unknown): string | undefined {
  if (typeof value === "number" && Number.isSafeInteger(value)) return String(value);
  return shortString(value, 64);
}

/** Default age limit of a report: a token lives minutes, a day-old receipt changes nothing useful. */
export const DEFAULT_MAX_AGE_SECONDS = 86_400;

/**
 * Whether `given` equals `expected(secret)` for one of the secrets (a rotation), compared in constant time and
 * with no early exit, so the work does not depend on which secret matches. Empty secrets never match.
 */
export function matchesAnySecret(
  secret: string | readonly string[],
  expected: (secret: string) => string,
  given: string,
): boolean {
  let ok = false;
  for (const s of secretsOf(secret)) ok = constantTimeEqualString(expected(s), given) || ok;
  return ok;
}

/** Parses a JSON body, refusing it as `malformed` when it is not JSON. */
export function parseJsonBody(scope: string, text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw reject(scope, "malformed", "body is not JSON");
  }
}
