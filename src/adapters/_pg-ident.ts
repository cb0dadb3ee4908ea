/** PostgreSQL identifiers (internal to the PostgreSQL adapters). */
import { ConfigError } from "../errors.js";

/**
 * Quotes a schema name for PostgreSQL: doubles inner quotes; refuses what is not a string, NUL and names over
 * 63 bytes (PostgreSQL would silently truncate them).
 */
export function quoteIdent(name: unknown): string {
  if (
    typeof name !== "string" ||
    name.length === 0 ||
    new TextEncoder().encode(name).length > 63 ||
    name.includes("\u0000")
  ) {
    throw new ConfigError("schema must be a string of 1-63 bytes without NUL", { scope: "postgres" });
  }
  return `"${name.replaceAll('"', '""')}"`;
}
