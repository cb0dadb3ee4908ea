/**
 * `health-token/otp`: one-time-password primitives, HOTP (RFC 4226) and TOTP (RFC 6238), with base32 secrets
 * and `otpauth://` URIs. Browser-safe (it imports no `node:` module), allocation-free per code, and small:
 * the hash cores are hand-written (SHA-1, SHA-256, SHA-512), each in its own module, so a bundle carries only
 * the ones it uses.
 *
 * Defaults: 6 digits, SHA-1, 30-second steps, a verification window of one step on each side. Verification
 * returns a result and never throws on a wrong or malformed code; misuse (an empty secret, digits outside
 * 6–10, an unknown algorithm, a period <= 0) throws an {@link InvalidArgumentError}.
 *
 * @example
 * ```ts
 * import { base32Encode, buildOtpauthUri, generateSecret, totp, verifyTotp } from "health-token/otp";
 *
 * const secret = generateSecret(); // 20 random bytes
 * const uri = buildOtpauthUri({ type: "totp", secret, account: "ana", issuer: "Plano Exemplo" });
 * // show `uri` as a QR code, or base32Encode(secret) for manual entry
 *
 * const code = totp(secret);                 // "492039", say
 * const result = verifyTotp(secret, code);   // { valid: true, step: 58_000_000, delta: 0 }
 * ```
 *
 * @module
 */

export type { ArgumentIssue } from "../errors.js";
export { HealthTokenError, InvalidArgumentError } from "../errors.js";
export type { RandomSource } from "../ports/clock.js";
export type { Algorithm, OtpHash } from "./_hmac.js";
export { hmacSha1 } from "./_sha1.js";
export { hmacSha256 } from "./_sha256.js";
export { hmacSha512 } from "./_sha512.js";
export { type Base32EncodeOptions, base32Decode, base32Encode } from "./base32.js";
export { hotp, type OtpOptions, type VerifyHotpOptions, type VerifyHotpResult, verifyHotp } from "./hotp.js";
export { type GenerateSecretOptions, generateSecret } from "./secret.js";
export { type TotpOptions, totp, type VerifyTotpOptions, type VerifyTotpResult, verifyTotp } from "./totp.js";
export {
  buildOtpauthUri,
  type HotpUriParams,
  type OtpauthCommon,
  type OtpauthParams,
  parseOtpauthUri,
  type TotpUriParams,
} from "./uri.js";
