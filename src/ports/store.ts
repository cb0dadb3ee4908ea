/**
 * The storage port. A {@link TokenStore} is what an adapter author implements; the conformance kit in
 * `health-token/testing` checks every rule written here.
 *
 * Rules that hold for every method:
 * - Each method is atomic: one Lua script or single command in Redis, one SQL statement (or one transaction)
 *   in PostgreSQL, one synchronous section in memory. Concurrent callers, in one process or many, never
 *   observe a half-done step.
 * - Time is passed in (`nowMs`); a store never reads the clock to decide an outcome.
 * - A failure of the backend rejects with `StoreUnavailableError` (cause attached). A store never reports
 *   `ok` for an attempt it could not durably mark consumed.
 * - A store never sees a plaintext code or a clear contact: only `codeHash` and opaque ids.
 *
 * @module
 */

import type { TokenEvent } from "./events.js";
import type { Channel } from "./notifier.js";

/** The life of a stored token. `expired` is derived from `expiresAtMs`, never stored. */
export type TokenStatus = "active" | "consumed" | "revoked" | "locked";

/** A token as stored: bound to one guide, one provider and one beneficiary; only the code's hash. */
export interface StoredToken {
  /** Unique id of the token. */
  readonly tokenId: string;
  /** The guide it confirms. */
  readonly guideId: string;
  /** The only provider allowed to verify it. */
  readonly providerId: string;
  /** The beneficiary it was issued for (opaque id). */
  readonly beneficiaryId: string;
  /** The keyed hash of the code (versioned text, such as `h1:…`); compared for equality only. */
  readonly codeHash: string;
  /** When it was issued (ms since the epoch). */
  readonly issuedAtMs: number;
  /** It is valid while `nowMs < expiresAtMs`; at exactly `expiresAtMs` it is expired. */
  readonly expiresAtMs: number;
  /** Wrong attempts allowed; the attempt that reaches it locks the token. */
  readonly maxAttempts: number;
  /** Wrong attempts so far (mismatch and wrong_provider count). */
  readonly attempts: number;
  /** Its state. */
  readonly status: TokenStatus;
  /** The channel it was delivered on. */
  readonly channel: Channel;
}

/** The token handed to {@link TokenStore.save}: a new token is active with no attempts. */
export type NewToken = Omit<StoredToken, "attempts" | "status">;

/** What {@link TokenStore.attempt} is asked to check. */
export interface AttemptInput {
  /** The guide whose active (or latest) token is tried. */
  readonly guideId: string;
  /** The provider presenting the code. */
  readonly providerId: string;
  /** The keyed hash of the presented code. */
  readonly candidateHash: string;
  /** The current time (ms). */
  readonly nowMs: number;
}

/**
 * The outcome of one attempt. Checks run in this order, first match wins:
 * 1. no token was ever saved for the guide (or it was purged): `not_found`;
 * 2. the latest token of the guide is `revoked`: `revoked`; `consumed`: `consumed`;
 * 3. `nowMs >= expiresAtMs`: `expired`;
 * 4. status `locked`: `locked`;
 * 5. `providerId` differs: `wrong_provider`, attempts +1;
 * 6. `candidateHash` differs from the token's but equals the hash of the token this one superseded, and
 *    `nowMs` is before that token's `expiresAtMs`: `superseded`, nothing counted (a late message carrying the
 *    previous code is not a guess);
 * 7. `candidateHash` differs: `mismatch`, attempts +1;
 * 8. otherwise `ok`, and the token becomes `consumed`.
 * When steps 5 or 6 bring `attempts` to `maxAttempts`, the token becomes `locked` in the same step and
 * `attemptsLeft` is 0. Of any number of concurrent correct attempts, exactly one gets `ok`.
 */
export type AttemptResult =
  | { readonly outcome: "not_found" }
  | {
      readonly outcome: "ok" | "expired" | "consumed" | "revoked" | "locked" | "superseded";
      readonly token: StoredToken;
    }
  | {
      readonly outcome: "mismatch" | "wrong_provider";
      readonly token: StoredToken;
      readonly attemptsLeft: number;
    };

/** A fixed-window counter's state after an operation. */
export interface CounterState {
  /** Hits in the current window. */
  readonly count: number;
  /** When the current window ends (ms); 0 when there is no window (count 0). */
  readonly resetAtMs: number;
}

/** An app (TOTP) secret, encrypted by the service before it reaches the store. */
export interface AppSecretRecord {
  /** The beneficiary it belongs to. */
  readonly beneficiaryId: string;
  /** The id of the key that encrypted it (for rotation). */
  readonly keyId: string;
  /** The encrypted secret (AES-256-GCM: nonce ‖ ciphertext ‖ tag), base64url. */
  readonly ciphertext: string;
  /** When it was enrolled (ms). */
  readonly createdAtMs: number;
}

/** What {@link TokenStore.purge} removed. */
export interface PurgeResult {
  /** Tokens removed (expired at `nowMs`, whatever their status). */
  readonly tokens: number;
  /** Events removed (older than the store's event retention). */
  readonly events: number;
}

/** Paging of {@link TokenStore.listEvents}. */
export interface ListEventsOptions {
  /** At most this many events (1–1000). */
  readonly limit: number;
  /** Only events older than the event with this id (a cursor from a previous page). */
  readonly before?: string | undefined;
}

/**
 * Where tokens, counters, TOTP step claims, app secrets and the event log live.
 *
 * @example
 * ```ts
 * import { MemoryTokenStore } from "health-token";
 * const store: TokenStore = new MemoryTokenStore();
 * ```
 */
export interface TokenStore {
  /**
   * Stores a new token (status `active`, attempts 0) and, in the same atomic step, revokes every active token
   * of the same guide. Returns the ids of the tokens it superseded. Two concurrent saves for one guide leave
   * exactly one active token. When the guide's previous token was active and unexpired at `issuedAtMs`, its
   * `codeHash` and `expiresAtMs` are kept beside the new token (only the latest one), so that
   * {@link TokenStore.attempt} answers `superseded` for it until then.
   */
  save(token: NewToken): Promise<{ superseded: string[] }>;

  /** One atomic verification step; see {@link AttemptResult} for the order of checks. */
  attempt(input: AttemptInput): Promise<AttemptResult>;

  /**
   * Revokes the active (unexpired, not consumed, not locked) token of a guide, if any, and returns it as it was
   * before; `undefined` when there was none.
   */
  revoke(guideId: string, nowMs: number): Promise<StoredToken | undefined>;

  /** The latest token of a guide (any status), or `undefined`. For status pages and tests; not a verification. */
  get(guideId: string): Promise<StoredToken | undefined>;

  /**
   * Adds one hit to a fixed-window counter. The window starts at the first hit (`nowMs`) and lasts `windowMs`;
   * a hit at or after `resetAtMs` starts a new window with count 1.
   */
  increment(key: string, windowMs: number, nowMs: number): Promise<CounterState>;

  /**
   * Takes back one hit of a counter's current window, never below 0, and returns the state after it; a counter
   * that is absent or past its window (`nowMs >= resetAtMs`) is left alone and reads `{ count: 0, resetAtMs: 0 }`.
   * The window's end does not move. The service uses it to release an attempt budget it reserved with
   * {@link TokenStore.increment} before comparing a code, when the outcome was not a failure.
   */
  decrement(key: string, nowMs: number): Promise<CounterState>;

  /** Reads a counter without changing it; `{ count: 0, resetAtMs: 0 }` when absent or past its window. */
  peek(key: string, nowMs: number): Promise<CounterState>;

  /**
   * Set-if-absent with expiry: returns `true` for the first claim of `key` (until `expiresAtMs`), `false` for
   * every later claim while it lasts. Used for "each TOTP step accepted once per beneficiary".
   */
  claimOnce(key: string, expiresAtMs: number, nowMs: number): Promise<boolean>;

  /** Stores (or replaces) a beneficiary's encrypted app secret. */
  putAppSecret(record: AppSecretRecord): Promise<void>;

  /** A beneficiary's encrypted app secret, or `undefined`. */
  getAppSecret(beneficiaryId: string): Promise<AppSecretRecord | undefined>;

  /** Appends an event to the beneficiary's log. */
  appendEvent(event: TokenEvent): Promise<void>;

  /** A beneficiary's events, newest first (ties by reverse insertion order). */
  listEvents(beneficiaryId: string, options: ListEventsOptions): Promise<TokenEvent[]>;

  /** Removes tokens expired at `nowMs`, counters and claims past their window, and events past retention. */
  purge(nowMs: number): Promise<PurgeResult>;
}
