/**
 * RFC 6238 (TOTP), Appendix B "Test Vectors". T0 = 0, X = 30 s, 8 digits.
 * The seeds (§Appendix A's reference code): ASCII "12345678901234567890" repeated to 20 bytes for HMAC-SHA-1,
 * 32 bytes for HMAC-SHA-256 and 64 bytes for HMAC-SHA-512.
 * Columns: Unix time in seconds, T (the step, hex as printed in the RFC), the TOTP, the mode.
 */
import type { Algorithm } from "../../src/otp/index.js";

export const RFC6238_SEEDS: Readonly<Record<Algorithm, string>> = {
  SHA1: "12345678901234567890",
  SHA256: "12345678901234567890123456789012",
  SHA512: "1234567890123456789012345678901234567890123456789012345678901234",
};

export const RFC6238_APPENDIX_B: readonly {
  timeSeconds: number;
  step: string;
  totp: string;
  mode: Algorithm;
}[] = [
  { timeSeconds: 59, step: "0000000000000001", totp: "94287082", mode: "SHA1" },
  { timeSeconds: 59, step: "0000000000000001", totp: "46119246", mode: "SHA256" },
  { timeSeconds: 59, step: "0000000000000001", totp: "90693936", mode: "SHA512" },
  { timeSeconds: 1111111109, step: "00000000023523EC", totp: "07081804", mode: "SHA1" },
  { timeSeconds: 1111111109, step: "00000000023523EC", totp: "68084774", mode: "SHA256" },
  { timeSeconds: 1111111109, step: "00000000023523EC", totp: "25091201", mode: "SHA512" },
  { timeSeconds: 1111111111, step: "00000000023523ED", totp: "14050471", mode: "SHA1" },
  { timeSeconds: 1111111111, step: "00000000023523ED", totp: "67062674", mode: "SHA256" },
  { timeSeconds: 1111111111, step: "00000000023523ED", totp: "99943326", mode: "SHA512" },
  { timeSeconds: 1234567890, step: "000000000273EF07", totp: "89005924", mode: "SHA1" },
  { timeSeconds: 1234567890, step: "000000000273EF07", totp: "91819424", mode: "SHA256" },
  { timeSeconds: 1234567890, step: "000000000273EF07", totp: "93441116", mode: "SHA512" },
  { timeSeconds: 2000000000, step: "0000000003F940AA", totp: "69279037", mode: "SHA1" },
  { timeSeconds: 2000000000, step: "0000000003F940AA", totp: "90698825", mode: "SHA256" },
  { timeSeconds: 2000000000, step: "0000000003F940AA", totp: "38618901", mode: "SHA512" },
  { timeSeconds: 20000000000, step: "0000000027BC86AA", totp: "65353130", mode: "SHA1" },
  { timeSeconds: 20000000000, step: "0000000027BC86AA", totp: "77737706", mode: "SHA256" },
  { timeSeconds: 20000000000, step: "0000000027BC86AA", totp: "47863826", mode: "SHA512" },
];
