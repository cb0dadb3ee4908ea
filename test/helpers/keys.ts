/** Made-up keys for the suites: random-looking (SHA-256 of a label), so the weak-key check accepts them. */
import { createHash } from "node:crypto";

/** A pepper in the form `openssl rand -base64 32` prints, derived from `label`. */
export function testPepper(label: string): string {
  return createHash("sha256").update(`pepper:${label}`).digest("base64");
}

/** A 32-byte key (SHA-256 of `label`), for `secretsKey` and byte peppers. */
export function testKeyBytes(label: string): Uint8Array {
  return new Uint8Array(createHash("sha256").update(`key:${label}`).digest());
}
