/**
 * `otpauth://` URIs (the Key Uri Format of Google Authenticator, read by every authenticator app), usually
 * shown as a QR code when a beneficiary enrols an app.
 *
 * @module
 */

import { argObject } from "../_internal/args.js";
import { InvalidArgumentError } from "../errors.js";
import type { Algorithm } from "./_hmac.js";
import { base32Decode, base32Encode } from "./base32.js";
import { checkDigits, splitCounter } from "./hotp.js";

/** Fields shared by both kinds of `otpauth://` URI. */
export interface OtpauthCommon {
  /** The shared secret (written base32, unpadded). */
  secret: Uint8Array;
  /** The account name shown in the app, such as a card number's last digits or an e-mail. Not empty. */
  account: string;
  /** The issuer (the health plan), written both as the label prefix and as the `issuer` parameter. */
  issuer?: string | undefined;
  /** The hash; apps assume `"SHA1"` when absent. */
  algorithm?: Algorithm | undefined;
  /** Number of digits, 6 to 10; apps assume 6 when absent. */
  digits?: number | undefined;
}

/** A TOTP URI: `otpauth://totp/Issuer:account?secret=…&issuer=…&algorithm=…&digits=…&period=…`. */
export interface TotpUriParams extends OtpauthCommon {
  /** The URI type. */
  type: "totp";
  /** The period in whole seconds; apps assume 30 when absent. */
  periodSeconds?: number | undefined;
}

/** A HOTP URI: `otpauth://hotp/Issuer:account?secret=…&counter=…`. */
export interface HotpUriParams extends OtpauthCommon {
  /** The URI type. */
  type: "hotp";
  /** The initial counter (required for HOTP): a number up to 2^53−1 or a bigint up to 2^64−1. */
  counter: number | bigint;
}

/**
 * What {@link buildOtpauthUri} takes and {@link parseOtpauthUri} returns. Optional fields are written only
 * when present and returned only when present in the URI, so `parseOtpauthUri(buildOtpauthUri(p))` gives `p`
 * back (a counter comes back as a number when it is at most 2^53−1 and as a bigint above).
 */
export type OtpauthParams = TotpUriParams | HotpUriParams;

const ALGORITHMS: readonly string[] = ["SHA1", "SHA256", "SHA512"];

function invalid(path: string, message: string): InvalidArgumentError {
  return new InvalidArgumentError(`${path} ${message}`, [{ path, message }]);
}

/**
 * Builds an `otpauth://` URI. Label parts and parameters are percent-encoded (`encodeURIComponent`).
 *
 * @throws {@link InvalidArgumentError} for an empty secret or account, an account starting with a space, or a
 *   bad algorithm, digits, period or counter
 *
 * @example
 * ```ts
 * buildOtpauthUri({ type: "totp", secret, account: "cartão final 0001", issuer: "Plano Exemplo" });
 * // "otpauth://totp/Plano%20Exemplo:cart%C3%A3o%20final%200001?secret=…&issuer=Plano%20Exemplo"
 * ```
 */
export function buildOtpauthUri(params: OtpauthParams): string {
  argObject(params, "params");
  const { type, secret, account, issuer, algorithm, digits } = params;
  if (type !== "totp" && type !== "hotp") throw invalid("type", 'must be "totp" or "hotp"');
  if (!(secret instanceof Uint8Array) || secret.length === 0)
    throw invalid("secret", "must be a non-empty Uint8Array");
  if (typeof account !== "string" || account.length === 0)
    throw invalid("account", "must be a non-empty string");
  if (account.startsWith(" ")) throw invalid("account", "must not start with a space");
  if (issuer !== undefined && (typeof issuer !== "string" || issuer.length === 0)) {
    throw invalid("issuer", "must be a non-empty string when given");
  }
  let uri = `otpauth://${type}/`;
  if (issuer !== undefined) uri += `${encodeURIComponent(issuer)}:`;
  uri += `${encodeURIComponent(account)}?secret=${base32Encode(secret)}`;
  if (issuer !== undefined) uri += `&issuer=${encodeURIComponent(issuer)}`;
  if (algorithm !== undefined) {
    if (!ALGORITHMS.includes(algorithm)) throw invalid("algorithm", 'must be "SHA1", "SHA256" or "SHA512"');
    uri += `&algorithm=${algorithm}`;
  }
  if (digits !== undefined) uri += `&digits=${checkDigits(digits)}`;
  if (params.type === "totp") {
    const period = params.periodSeconds;
    if (period !== undefined) {
      if (!Number.isSafeInteger(period) || period <= 0)
        throw invalid("periodSeconds", "must be a positive integer");
      uri += `&period=${period}`;
    }
  } else {
    splitCounter(params.counter);
    uri += `&counter=${params.counter}`;
  }
  return uri;
}

function decode(text: string, what: string): string {
  try {
    return decodeURIComponent(text);
  } catch (cause) {
    throw new InvalidArgumentError(
      `${what} has malformed percent-encoding`,
      [{ path: what, message: "has malformed percent-encoding" }],
      {
        cause,
      },
    );
  }
}

/**
 * Parses an `otpauth://` URI. The scheme, the type and the algorithm are case-insensitive; the secret is
 * decoded as leniently as {@link base32Decode} does; parameters other than those of {@link OtpauthParams}
 * (`image`, …) are ignored.
 *
 * @throws {@link InvalidArgumentError} naming what is wrong: the scheme, the type, a missing label or secret,
 *   an invalid secret, algorithm, digits, period or counter, a duplicated parameter, malformed
 *   percent-encoding, or an issuer prefix that differs from the `issuer` parameter
 *
 * @example
 * ```ts
 * const params = parseOtpauthUri("otpauth://totp/ACME:ana?secret=JBSWY3DPEHPK3PXP&issuer=ACME");
 * // { type: "totp", secret: Uint8Array(10), account: "ana", issuer: "ACME" }
 * totp(params.secret, params); // digits, algorithm and periodSeconds follow the URI
 * ```
 */
export function parseOtpauthUri(uri: string): OtpauthParams {
  if (typeof uri !== "string") throw invalid("uri", "must be a string");
  const match = /^otpauth:\/\/([^/?#]*)\/([^?#]*)(?:\?([^#]*))?(?:#.*)?$/i.exec(uri);
  if (!match) throw invalid("uri", "must look like otpauth://totp/label?secret=…");
  const type = match[1]!.toLowerCase();
  if (type !== "totp" && type !== "hotp") throw invalid("type", 'must be "totp" or "hotp"');

  const query = new Map<string, string>();
  for (const pair of (match[3] ?? "").split("&")) {
    if (pair === "") continue;
    const eq = pair.indexOf("=");
    const name = decode((eq < 0 ? pair : pair.slice(0, eq)).replace(/\+/g, " "), "parameter name");
    const value = decode(eq < 0 ? "" : pair.slice(eq + 1).replace(/\+/g, " "), name);
    if (query.has(name)) throw invalid(name, "is given more than once");
    query.set(name, value);
  }

  const issuerParam = query.get("issuer");
  const rawLabel = match[2]!;
  let account = rawLabel;
  let prefix: string | undefined;
  let colon = rawLabel.indexOf(":");
  if (colon < 0 && issuerParam !== undefined) {
    // Some generators encode the separator too; accept it when the prefix is the issuer.
    const encoded = rawLabel.search(/%3a/i);
    if (encoded >= 0 && decode(rawLabel.slice(0, encoded), "label") === issuerParam) colon = encoded;
  }
  if (colon >= 0) {
    prefix = decode(rawLabel.slice(0, colon), "label");
    account = rawLabel.slice(rawLabel[colon] === ":" ? colon + 1 : colon + 3);
  }
  account = decode(account, "label").replace(/^ +/, "");
  if (account === "") throw invalid("label", "must name an account");
  if (prefix !== undefined && issuerParam !== undefined && prefix !== issuerParam) {
    throw invalid("issuer", "differs from the issuer in the label");
  }
  const issuer = issuerParam ?? prefix;
  if (issuer === "") throw invalid("issuer", "must not be empty");

  const secretText = query.get("secret");
  if (secretText === undefined || secretText === "") throw invalid("secret", "is missing");
  let secret: Uint8Array;
  try {
    secret = base32Decode(secretText);
  } catch (cause) {
    throw new InvalidArgumentError(
      "secret is not valid base32",
      [{ path: "secret", message: "is not valid base32" }],
      {
        cause,
      },
    );
  }
  if (secret.length === 0) throw invalid("secret", "is missing");

  const common: OtpauthCommon = { secret, account };
  if (issuer !== undefined) common.issuer = issuer;
  const algorithm = query.get("algorithm");
  if (algorithm !== undefined) {
    const upper = algorithm.toUpperCase();
    if (!ALGORITHMS.includes(upper)) throw invalid("algorithm", 'must be "SHA1", "SHA256" or "SHA512"');
    common.algorithm = upper as Algorithm;
  }
  const digits = query.get("digits");
  if (digits !== undefined) {
    if (!/^\d{1,2}$/.test(digits)) throw invalid("digits", "must be an integer from 6 to 10");
    common.digits = checkDigits(Number(digits));
  }

  if (type === "totp") {
    const result: TotpUriParams = { type, ...common };
    const period = query.get("period");
    if (period !== undefined) {
      if (!/^\d{1,15}$/.test(period) || Number(period) === 0)
        throw invalid("period", "must be a positive integer");
      result.periodSeconds = Number(period);
    }
    return result;
  }
  const counterText = query.get("counter");
  if (counterText === undefined) throw invalid("counter", "is required for hotp");
  if (!/^\d{1,20}$/.test(counterText)) throw invalid("counter", "must be an integer from 0 to 2^64-1");
  const big = BigInt(counterText);
  const counter = big <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(big) : big;
  splitCounter(counter);
  return { type, ...common, counter };
}
