/**
 * App mode: the beneficiary's app generates the code offline (TOTP, RFC 6238). The per-beneficiary secret is
 * stored only encrypted (AES-256-GCM through WebCrypto, the key id beside the ciphertext so keys can rotate),
 * each time step is accepted at most once per beneficiary, and the attempt and lockout rules of sent codes
 * apply.
 *
 * TOTP itself (RFC 6238, whole-window constant-time verification), base32 and the `otpauth://` URI come from
 * `health-token/otp`.
 *
 * @module
 */
import { sha256 } from "@noble/hashes/sha2.js";
import { normalizeCandidate } from "../_internal/codes.js";
import { base64urlDecode, base64urlEncode, randomId } from "../_internal/ids.js";
import { MAKE_A_KEY, weakKeyProblem } from "../_internal/key-strength.js";
import { idProblem } from "../_internal/text.js";
import { ConfigError, InvalidArgumentError } from "../errors.js";
import { base32Encode, buildOtpauthUri, verifyTotp } from "../otp/index.js";
import { rateLimitKeys, releaseFailure } from "../policy/rate-limit.js";
import { appWindow } from "../policy/token-policy.js";
import type { TokenEvent } from "../ports/events.js";
import type { AppSecretRecord } from "../ports/store.js";
import { runAppVerifyBegin, runAppVerifyFinish } from "./_steps.js";
import type { ServiceContext } from "./token-service.js";
import { storeOp } from "./token-service.js";
import { assertVerifyShape, type VerifyResult } from "./verification.js";

/** One AES-256-GCM key: 32 bytes (its id is derived from it), or an explicit `{ id, key }`. */
export type SecretsKey = Uint8Array | { readonly id: string; readonly key: Uint8Array };

/** One key, or several for rotation (the first encrypts; each decrypts records carrying its id). */
export type SecretsKeyOption = SecretsKey | readonly SecretsKey[];

/** What `TokenService.enrollApp` returns: shown once to the beneficiary, never stored in clear. */
export interface AppEnrollment {
  /** The TOTP secret in base32 (RFC 4648, no padding), for manual entry. */
  readonly secret: string;
  /** The `otpauth://totp/…` URI for a QR code. */
  readonly otpauthUri: string;
}

/** What `verifyAppCode` needs. */
export interface VerifyAppCodeInput {
  /** The guide the code confirms (bound in the receipt). */
  readonly guideId: string;
  /** The provider presenting it. */
  readonly providerId: string;
  /** The beneficiary whose app generated it. */
  readonly beneficiaryId: string;
  /** The code as typed. */
  readonly code: string;
}

// ------------------------------------------------------------------ encryption of secrets

interface ResolvedKey {
  readonly id: string;
  readonly raw: Uint8Array<ArrayBuffer>;
  cryptoKey?: Promise<CryptoKey>;
}

const encoder = new TextEncoder();

function keyFingerprint(raw: Uint8Array): string {
  const tagged = new Uint8Array(32 + raw.length);
  tagged.set(encoder.encode("health-token/secrets-key-id/v1\0".padEnd(32, "\0")));
  tagged.set(raw, 32);
  return `k${base64urlEncode(sha256(tagged)).slice(0, 10)}`;
}

function resolveKeys(option: SecretsKeyOption | undefined): ResolvedKey[] {
  if (option === undefined) return [];
  const list: readonly SecretsKey[] =
    option instanceof Uint8Array || !Array.isArray(option)
      ? [option as SecretsKey]
      : (option as readonly SecretsKey[]);
  if (list.length === 0) throw new ConfigError("secretsKey is empty");
  const keys = list.map((entry, i): ResolvedKey => {
    const raw = entry instanceof Uint8Array ? entry : entry?.key;
    if (!(raw instanceof Uint8Array) || raw.length !== 32) {
      throw new ConfigError(`secretsKey ${i} must be 32 bytes (AES-256); ${MAKE_A_KEY}`);
    }
    const weak = weakKeyProblem(raw);
    if (weak !== undefined) throw new ConfigError(`secretsKey ${i} is weak: ${weak}; ${MAKE_A_KEY}`);
    const id = entry instanceof Uint8Array ? keyFingerprint(raw) : entry.id;
    if (typeof id !== "string" || !/^[A-Za-z0-9._-]{1,64}$/.test(id)) {
      throw new ConfigError(`secretsKey ${i} has an invalid id`);
    }
    return { id, raw: new Uint8Array(raw) };
  });
  if (new Set(keys.map((k) => k.id)).size !== keys.length)
    throw new ConfigError("secretsKey ids must differ");
  return keys;
}

function subtle(): SubtleCrypto {
  const s = globalThis.crypto?.subtle;
  if (!s) throw new ConfigError("app mode needs WebCrypto (globalThis.crypto.subtle)");
  return s;
}

function cryptoKeyOf(key: ResolvedKey): Promise<CryptoKey> {
  key.cryptoKey ??= subtle().importKey("raw", key.raw, { name: "AES-GCM" }, false, ["encrypt", "decrypt"]);
  return key.cryptoKey;
}

function associatedData(beneficiaryId: string): Uint8Array<ArrayBuffer> {
  // Binds the ciphertext to its beneficiary: a record copied to another beneficiary does not decrypt.
  return new Uint8Array(encoder.encode(`health-token/app-secret/v1\0${beneficiaryId}`));
}

/** A copy backed by a plain ArrayBuffer (what WebCrypto's types ask for). */
function own(bytes: Uint8Array): Uint8Array<ArrayBuffer> {
  return new Uint8Array(bytes);
}

// ------------------------------------------------------------------ the app mode

/** App-mode operations of the token service (internal; exposed through `TokenService`). */
export class AppMode {
  readonly #ctx: ServiceContext;
  readonly #keys: ResolvedKey[];

  constructor(ctx: ServiceContext, secretsKey: SecretsKeyOption | undefined) {
    this.#ctx = ctx;
    this.#keys = resolveKeys(secretsKey);
  }

  #currentKey(): ResolvedKey {
    const key = this.#keys[0];
    if (!key) throw new ConfigError("app mode needs the secretsKey option");
    return key;
  }

  async #encrypt(secret: Uint8Array, beneficiaryId: string): Promise<{ keyId: string; ciphertext: string }> {
    const key = this.#currentKey();
    const nonce = this.#ctx.pool.bytes(12);
    const sealed = new Uint8Array(
      await subtle().encrypt(
        { name: "AES-GCM", iv: own(nonce), additionalData: associatedData(beneficiaryId) },
        await cryptoKeyOf(key),
        own(secret),
      ),
    );
    const out = new Uint8Array(12 + sealed.length);
    out.set(nonce);
    out.set(sealed, 12);
    return { keyId: key.id, ciphertext: base64urlEncode(out) };
  }

  async #decrypt(keyId: string, ciphertext: string, beneficiaryId: string): Promise<Uint8Array> {
    const key = this.#keys.find((k) => k.id === keyId);
    if (!key)
      throw new ConfigError("no secretsKey with the id of this app secret (was a key removed too early?)");
    const bytes = base64urlDecode(ciphertext);
    if (!bytes || bytes.length < 12 + 16) throw new ConfigError("an app secret record is corrupt");
    try {
      return new Uint8Array(
        await subtle().decrypt(
          { name: "AES-GCM", iv: own(bytes.subarray(0, 12)), additionalData: associatedData(beneficiaryId) },
          await cryptoKeyOf(key),
          own(bytes.subarray(12)),
        ),
      );
    } catch (error) {
      throw new ConfigError("an app secret does not decrypt under its key (wrong key or tampered record)", {
        cause: error,
      });
    }
  }

  /** Enrolls (or re-enrolls) the beneficiary's app; returns the secret once. */
  async enroll(beneficiary: { readonly id: string }): Promise<AppEnrollment> {
    if (typeof beneficiary !== "object" || beneficiary === null || typeof beneficiary.id !== "string") {
      throw new InvalidArgumentError("invalid beneficiary", [
        { path: "beneficiary.id", message: "expected a string" },
      ]);
    }
    const beneficiaryId = beneficiary.id;
    const problem = idProblem(beneficiaryId, 128);
    if (problem !== undefined) {
      throw new InvalidArgumentError("invalid beneficiary", [{ path: "beneficiary.id", message: problem }]);
    }
    this.#currentKey();
    const { store, policy, clock } = this.#ctx;
    const secret = this.#ctx.pool.bytes(20); // 160 bits, RFC 4226 §4 R6
    const issuer = policy.operatorName ?? policy.app.issuer;
    const otpauthUri = buildOtpauthUri({
      type: "totp",
      secret,
      account: beneficiaryId,
      issuer,
      algorithm: "SHA1",
      digits: policy.app.digits,
      periodSeconds: policy.app.stepSeconds,
    });
    // The URI is built (and validated) before anything is stored.
    const encoded = base32Encode(secret);
    const nowMs = clock.now();
    const { keyId, ciphertext } = await this.#encrypt(secret, beneficiaryId);
    secret.fill(0);
    await storeOp(() => store.putAppSecret({ beneficiaryId, keyId, ciphertext, createdAtMs: nowMs }));
    await this.#ctx.emit({ type: "app.enrolled", beneficiaryId, channel: "app" }, nowMs);
    return { secret: encoded, otpauthUri };
  }

  /** Verifies a code from the beneficiary's app (see `TokenService.verifyAppCode`). */
  async verify(input: VerifyAppCodeInput): Promise<VerifyResult> {
    assertVerifyShape(input, ["guideId", "providerId", "beneficiaryId", "code"]);
    const { guideId, providerId, beneficiaryId } = input;
    const { store, policy, clock } = this.#ctx;
    const code = normalizeCandidate(input.code, policy.app.digits);
    if (code === undefined) return { ok: false, reason: "malformed" };
    const nowMs = clock.now();
    const ctx = this.#ctx;
    const base = { beneficiaryId, guideId, providerId, channel: "app" } as const;
    const event = (fields: Omit<TokenEvent, "id" | "atMs" | keyof typeof base>): TokenEvent => ({
      id: randomId(ctx.pool),
      atMs: nowMs,
      ...base,
      ...fields,
    });
    const failures = {
      key: rateLimitKeys.failures(beneficiaryId),
      max: policy.maxFailuresPerBeneficiary,
      windowMs: policy.failureWindowSeconds * 1000,
    };

    // The beneficiary's budget is reserved atomically BEFORE anything is compared: the caller chooses the guide
    // id, so only a per-beneficiary reservation bounds a burst spread over invented guides.
    const begun = await storeOp(() =>
      runAppVerifyBegin(store, {
        beneficiaryId,
        nowMs,
        failures,
        attempts: {
          key: rateLimitKeys.appAttempts(guideId, beneficiaryId),
          max: policy.maxAttempts,
          windowMs: policy.ttlSeconds * 1000,
        },
        lockedEvent: event({ type: "token.rejected", reason: "locked" }),
      }),
    );
    if (begun.outcome === "locked") {
      ctx.tell(begun.events);
      return { ok: false, reason: "locked" };
    }
    if (begun.outcome === "not_found") return { ok: false, reason: "not_found" };
    let settled = false;
    try {
      const matched = await this.#match(begun.secret, code, nowMs);
      if (matched < 0) {
        // A wrong guess: the reserved unit stays charged.
        const attemptsLeft = Math.max(0, policy.maxAttempts - begun.attempts);
        const events = [event({ type: "token.rejected", reason: "mismatch", attemptsLeft })];
        if (attemptsLeft === 0) events.push(event({ type: "token.locked", reason: "mismatch" }));
        settled = true; // charged whatever happens to the events
        const done = await storeOp(() =>
          runAppVerifyFinish(store, { matched: false, nowMs, failuresKey: failures.key, events }),
        );
        ctx.tell(done.events);
        return { ok: false, reason: "mismatch", attemptsLeft };
      }
      const { stepSeconds, past } = appWindow(policy);
      const tokenId = `totp-${matched}`;
      const done = await storeOp(() =>
        runAppVerifyFinish(store, {
          matched: true,
          nowMs,
          failuresKey: failures.key,
          claim: {
            key: rateLimitKeys.totpStep(beneficiaryId, matched),
            expiresAtMs: (matched + past + 1) * stepSeconds * 1000,
          },
          verifiedEvent: event({ type: "token.verified", tokenId }),
          // ASVS 2.9.4: a replayed code is refused and logged.
          replayedEvent: event({ type: "token.rejected", tokenId, reason: "consumed" }),
        }),
      );
      settled = true;
      ctx.tell(done.events);
      if (!done.first) return { ok: false, reason: "consumed" };
      return {
        ok: true,
        receipt: { tokenId, guideId, providerId, beneficiaryId, code, verifiedAtMs: nowMs, mode: "app" },
      };
    } finally {
      // The comparison or the settling step failed: the reserved unit goes back.
      if (!settled) await storeOp(() => releaseFailure(store, beneficiaryId, nowMs)).catch(() => {});
    }
  }

  /** The step whose code matches (`-1` for none); re-encrypts a record found under an older key. */
  async #match(record: AppSecretRecord, code: string, nowMs: number): Promise<number> {
    const { beneficiaryId } = record;
    const secret = await this.#decrypt(record.keyId, record.ciphertext, beneficiaryId);
    try {
      const { stepSeconds, past, future } = appWindow(this.#ctx.policy);
      const check = verifyTotp(secret, code, {
        timeMs: nowMs,
        periodSeconds: stepSeconds,
        digits: this.#ctx.policy.app.digits,
        algorithm: "SHA1",
        window: { past, future },
      });
      if (record.keyId !== this.#currentKey().id) {
        // Lazy rotation: re-encrypt under the current key.
        const rewrapped = await this.#encrypt(secret, beneficiaryId);
        await storeOp(() => this.#ctx.store.putAppSecret({ ...record, ...rewrapped }));
      }
      return check.valid ? check.step : -1;
    } finally {
      secret.fill(0);
    }
  }
}
