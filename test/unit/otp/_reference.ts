// A reference HOTP built on @noble/hashes, independent of the hand-written cores under test.
import { hmac } from "@noble/hashes/hmac.js";
import { sha1 } from "@noble/hashes/legacy.js";
import { sha256, sha512 } from "@noble/hashes/sha2.js";
import type { Algorithm } from "../../../src/otp/index.js";

export const NOBLE = { SHA1: sha1, SHA256: sha256, SHA512: sha512 } as const;

export function referenceHotp(
  secret: Uint8Array,
  counter: bigint,
  digits: number,
  algorithm: Algorithm,
): string {
  const message = new Uint8Array(8);
  new DataView(message.buffer).setBigUint64(0, counter);
  const mac = hmac(NOBLE[algorithm], secret, message);
  const offset = mac[mac.length - 1]! & 0xf;
  const value = new DataView(mac.buffer, mac.byteOffset).getUint32(offset) & 0x7fffffff;
  return String(value % 10 ** digits).padStart(digits, "0");
}

export const ascii = (text: string): Uint8Array => new TextEncoder().encode(text);
export const hex = (bytes: Uint8Array): string => Buffer.from(bytes).toString("hex");
