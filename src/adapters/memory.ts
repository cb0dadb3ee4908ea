/**
 * `MemoryTokenStore`: the in-process {@link TokenStore}, the default of the token service and the store of
 * the tests. Every method, and each intent-level step of {@link TokenStoreSteps}, runs in one synchronous
 * section (no `await` between a read and its write), so it is atomic within the process. Data lives in the
 * heap: it is lost on restart and not shared between processes; use the Redis or PostgreSQL store for more
 * than one process.
 *
 * Compact by design: a token is a slot in typed arrays (its 32-byte hash and 12-byte id as bytes, times as
 * doubles, attempts/status/channel packed), provider ids are interned, guide and beneficiary ids are bytes in
 * id tables shared with the events (`_memory-keys.ts`), and events are byte records (see
 * `_memory-events.ts`), so a million
 * active tokens fit in a few hundred megabytes (see `docs/benchmarks.md`).
 *
 * @module
 */
import { base64urlDecodeInto, base64urlEncode } from "../_internal/ids.js";
import { rateLimitKeys } from "../policy/rate-limit.js";
import type { TokenEvent } from "../ports/events.js";
import type { Channel } from "../ports/notifier.js";
import type {
  AppSecretRecord,
  AttemptInput,
  AttemptResult,
  CounterState,
  ListEventsOptions,
  NewToken,
  PurgeResult,
  StoredToken,
  TokenStatus,
  TokenStore,
} from "../ports/store.js";
import {
  type AppVerifyBeginInput,
  type AppVerifyBeginResult,
  type AppVerifyFinishInput,
  type AppVerifyFinishResult,
  type IssueStepInput,
  type IssueStepResult,
  type TokenStoreSteps,
  type VerifyStepInput,
  type VerifyStepResult,
  verifyStepEvents,
} from "../ports/store-steps.js";
import { grown } from "./_memory-columns.js";
import { MemoryCounters } from "./_memory-counters.js";
import { MemoryEventLog } from "./_memory-events.js";
import { Interner } from "./_memory-intern.js";
import { KeyTable } from "./_memory-keys.js";
import { Pacer } from "./_memory-pacer.js";
import { SlotSideMap } from "./_memory-side.js";

/** Options of {@link MemoryTokenStore}. */
export interface MemoryTokenStoreOptions {
  /** Events older than this are removed by `purge` (default 365 days). */
  readonly eventRetentionMs?: number | undefined;
  /**
   * At most this many events per beneficiary (default 1,000): past it, each append drops the oldest. The figure
   * is {@link MemoryTokenStore.maxEventsPerBeneficiary}; {@link MemoryTokenStore.truncatedEvents} says how many a
   * beneficiary's history lost this way.
   */
  readonly maxEventsPerBeneficiary?: number | undefined;
  /**
   * Tokens expired for longer than this are removed lazily, a few per `save` (default 1 hour). Until then an
   * attempt still reports `expired`; `purge(nowMs)` removes every expired token at once.
   */
  readonly expiredGraceMs?: number | undefined;
}

/** Every string and byte array a {@link MemoryTokenStore} holds; see {@link MemoryTokenStore.debugSnapshot}. */
export interface MemoryStoreSnapshot {
  /** Every string held (ids, hashes, keys, masked contacts, ciphertexts …). */
  readonly strings: readonly string[];
  /** Every byte array held (hashes, token ids), one per live token field. */
  readonly bytes: readonly Uint8Array[];
}

const STATUS: readonly TokenStatus[] = ["active", "consumed", "revoked", "locked"];
const ACTIVE = 0;
const CONSUMED = 1;
const REVOKED = 2;
const LOCKED = 3;
const CHANNEL_LIST: readonly Channel[] = ["app", "sms", "whatsapp", "email"];
const CHANNEL_INDEX: Readonly<Record<Channel, number>> = { app: 0, sms: 1, whatsapp: 2, email: 3 };
/** How long `purge` works before it lets the event loop run (ms), and how many slots at most. */
const PURGE_SLICE_MS = 4;
const PURGE_SLICE_SLOTS = 16_384;

/** Distinct provider ids a token's word can index (25 bits); the rare one past it is kept aside. */
const PROVIDER_LIMIT = 0x1ffffff;

const HASH_BYTES = 32;
/** A guide's counters kept in its slot: the resend cooldown (family 0) and the sends (family 1). */
const COOLDOWN = "rl:cd:";
const SENDS = "rl:sg:";
const MAX_COUNT = 0xffffffff;
const ID_BYTES = 12;
const H1_PREFIX = "h1:";
const DAY_MS = 86_400_000;

// meta0: attempts (low 16 bits) | maxAttempts (high 16 bits)
// meta1: status (2 bits) | channel (2) | compact hash (1) | compact id (1) | provider index (25, << 6)
//        | a superseded hash kept aside (1, bit 31)
const F_HASH = 1 << 4;
const F_ID = 1 << 5;
const F_PREV = 1 << 31;

function decodeH1(hash: string, out: Uint8Array, offset: number): boolean {
  return (
    hash.length === 46 && hash.startsWith(H1_PREFIX) && base64urlDecodeInto(hash.slice(3), out, offset, 32)
  );
}

/** Constant-time equality of two hash texts (the length is not secret). */
function equalText(a: string, b: string): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a.charCodeAt(i) ^ b.charCodeAt(i);
  return diff === 0;
}

/**
 * The in-memory token store.
 *
 * @example
 * ```ts
 * import { createTokenService, MemoryTokenStore } from "health-token";
 * const store = new MemoryTokenStore({ maxEventsPerBeneficiary: 200 });
 * setInterval(() => void store.purge(Date.now()), 60_000).unref();
 * ```
 */
export class MemoryTokenStore implements TokenStore, TokenStoreSteps {
  readonly #eventRetentionMs: number;
  readonly #maxEvents: number;
  readonly #graceMs: number;

  // Guides: one slot per guide, holding its latest token and its cooldown and sends counters. A slot stays while
  // it has either: a slot whose token was removed keeps its live counters (`#hasToken` 0) until they end.
  #capacity = 0;
  // Guide and beneficiary ids as entries of id tables shared with the events (`_memory-keys.ts`): a slot holds
  // its guide's entry (whose tag is the slot + 1) and its token's beneficiary's, each + 1 (0: none). A slot is
  // in use while it has its guide's.
  readonly #guides = new KeyTable();
  readonly #beneficiaries = new KeyTable();
  #guideKey = new Int32Array(0);
  #beneficiaryKey = new Int32Array(0);
  #times = new Float64Array(0); // [issuedAtMs, expiresAtMs] per slot
  #meta = new Uint32Array(0); // [meta0, meta1] per slot
  #hash = new Uint8Array(0);
  #id = new Uint8Array(0);
  #hasToken = new Uint8Array(0);
  #gCount = new Uint32Array(0); // [cooldown, sends] per slot
  #gReset = new Float64Array(0); // their windows' ends
  // Read only when the slot's flags say so (compact hash / id unset, provider past the limit; F_PREV): an entry
  // of a released slot may stay until `purge` rebuilds the map (see `SlotSideMap`).
  #extra = new SlotSideMap<TokenExtra>();
  // The hash and expiry of the token a slot's token superseded, while that one was still live (rare: kept aside).
  #previous = new SlotSideMap<{ codeHash: string; expiresAtMs: number }>();
  // Free slots, chained through their beneficiary column (a free slot has no token): the next one + 1, 0 ends.
  // No JS array of a million slots grows (and is scanned by the collector) while a purge frees them.
  #free = -1;
  #high = 0; // slots ever handed out
  #tokens = 0; // slots with a token
  #hand = 0;
  // The last guide counter routed by `#route` (its slot's cell, or -1 when the key is no guide's).
  #family = -1;
  #part = "";

  // Interned provider ids (tokens and events) and reasons (events).
  #providers = new Interner(PROVIDER_LIMIT);
  #reasons = new Interner(255);

  // The other counters (columns, see `MemoryCounters`), claims, app secrets.
  // Claims: `purge` copies the live ones to a fresh map in slices (reading both meanwhile) rather than deleting
  // the rest, for the reason given in `_memory-side.ts`.
  #counters = new MemoryCounters();
  #claims = new Map<string, number>();
  #claimsDraining: Map<string, number> | undefined;
  #claimSweep: Iterator<[string, number]> | undefined;
  #secrets = new Map<string, AppSecretRecord>();

  #events: MemoryEventLog;

  /** @param options - retention, per-beneficiary cap and lazy-purge grace */
  constructor(options: MemoryTokenStoreOptions = {}) {
    this.#eventRetentionMs = options.eventRetentionMs ?? 365 * DAY_MS;
    this.#maxEvents = Math.max(1, options.maxEventsPerBeneficiary ?? 1000);
    this.#graceMs = options.expiredGraceMs ?? 3_600_000;
    this.#events = new MemoryEventLog(
      this.#maxEvents,
      this.#providers,
      this.#reasons,
      this.#guides,
      this.#beneficiaries,
    );
  }

  /**
   * The per-beneficiary event cap: past it, each append drops that beneficiary's oldest event.
   *
   * @example
   * ```ts
   * new MemoryTokenStore({ maxEventsPerBeneficiary: 200 }).maxEventsPerBeneficiary; // 200
   * ```
   */
  get maxEventsPerBeneficiary(): number {
    return this.#maxEvents;
  }

  /**
   * How many of a beneficiary's events the cap dropped ({@link MemoryTokenStore.maxEventsPerBeneficiary}); 0 when
   * the history is complete (events past retention, removed by `purge`, are not counted). `listEvents` keeps
   * the port's contract (real events only), so a history page that ends while this is above 0 was cut.
   *
   * @example
   * ```ts
   * const store = new MemoryTokenStore({ maxEventsPerBeneficiary: 2 });
   * for (const id of ["e1", "e2", "e3"]) await store.appendEvent({ id, type: "token.issued", atMs: 1, beneficiaryId: "b" });
   * store.truncatedEvents("b"); // 1: "e1" was dropped
   * ```
   */
  truncatedEvents(beneficiaryId: string): number {
    return this.#events.truncated(beneficiaryId);
  }

  /** Active, consumed, revoked and locked tokens currently held (one per guide). */
  get size(): number {
    return this.#tokens;
  }

  // ---------------------------------------------------------------- tokens

  async save(token: NewToken): Promise<{ superseded: string[] }> {
    return { superseded: this.#save(token) };
  }

  async attempt(input: AttemptInput): Promise<AttemptResult> {
    return this.#attempt(input);
  }

  async revoke(guideId: string, nowMs: number): Promise<StoredToken | undefined> {
    const slot = this.#tokenSlotOf(guideId);
    if (slot === undefined) return undefined;
    const m1 = this.#meta[slot * 2 + 1]!;
    if ((m1 & 3) !== ACTIVE || nowMs >= this.#times[slot * 2 + 1]!) return undefined;
    const before = this.#read(slot);
    this.#meta[slot * 2 + 1] = (m1 & ~3) | REVOKED;
    return before;
  }

  async get(guideId: string): Promise<StoredToken | undefined> {
    const slot = this.#tokenSlotOf(guideId);
    return slot === undefined ? undefined : this.#read(slot);
  }

  // ---------------------------------------------------------------- counters, claims, secrets

  async increment(key: string, windowMs: number, nowMs: number): Promise<CounterState> {
    const cell = this.#increment(key, windowMs, nowMs);
    return { count: this.#count(cell), resetAtMs: this.#resetAt(cell) };
  }

  async decrement(key: string, nowMs: number): Promise<CounterState> {
    return this.#decrement(key, nowMs);
  }

  /** `decrement`, synchronous. */
  #decrement(key: string, nowMs: number): CounterState {
    if (!this.#route(key)) return this.#counters.decrement(key, nowMs);
    const cell = this.#liveGuideCell(nowMs);
    if (cell < 0) return { count: 0, resetAtMs: 0 };
    if (this.#gCount[cell]! > 0) this.#gCount[cell] = this.#gCount[cell]! - 1;
    return { count: this.#gCount[cell]!, resetAtMs: this.#gReset[cell]! };
  }

  async peek(key: string, nowMs: number): Promise<CounterState> {
    const cell = this.#live(key, nowMs);
    return cell < 0
      ? { count: 0, resetAtMs: 0 }
      : { count: this.#count(cell), resetAtMs: this.#resetAt(cell) };
  }

  async claimOnce(key: string, expiresAtMs: number, nowMs: number): Promise<boolean> {
    return this.#claimOnce(key, expiresAtMs, nowMs);
  }

  async putAppSecret(record: AppSecretRecord): Promise<void> {
    this.#secrets.set(record.beneficiaryId, { ...record });
  }

  async getAppSecret(beneficiaryId: string): Promise<AppSecretRecord | undefined> {
    const record = this.#secrets.get(beneficiaryId);
    return record === undefined ? undefined : { ...record };
  }

  // ---------------------------------------------------------------- events

  async appendEvent(event: TokenEvent): Promise<void> {
    this.#events.append(event);
  }

  async listEvents(beneficiaryId: string, options: ListEventsOptions): Promise<TokenEvent[]> {
    return this.#events.list(beneficiaryId, options);
  }

  // ---------------------------------------------------------------- steps (each one synchronous section)

  /** {@link TokenStoreSteps.issueStep}: the limits, the save that supersedes and the events, at once. */
  async issueStep(input: IssueStepInput): Promise<IssueStepResult> {
    const nowMs = input.token.issuedAtMs;
    const { failures, cooldown, sends } = input;
    // As `peek` reads them: a counter without a live window counts 0 (and refuses a limit of 0, resetAtMs 0).
    const failed = this.#live(failures.key, nowMs);
    if ((failed < 0 ? 0 : this.#count(failed)) >= failures.max) {
      return { outcome: "locked_out", resetAtMs: failed < 0 ? 0 : this.#resetAt(failed) };
    }
    if (cooldown !== undefined) {
      const seen = this.#live(cooldown.key, nowMs);
      if ((seen < 0 ? 0 : this.#count(seen)) >= cooldown.max) {
        return { outcome: "cooldown", resetAtMs: seen < 0 ? 0 : this.#resetAt(seen) };
      }
    }
    const seenSends = this.#live(sends.key, nowMs);
    if ((seenSends < 0 ? 0 : this.#count(seenSends)) >= sends.max) {
      return { outcome: "sends_per_guide", resetAtMs: seenSends < 0 ? 0 : this.#resetAt(seenSends) };
    }
    // The save first (nothing can refuse past this point): the guide's counters then go to its token's slot.
    const superseded = this.#save(input.token);
    if (cooldown !== undefined) this.#increment(cooldown.key, cooldown.windowMs, nowMs);
    this.#increment(sends.key, sends.windowMs, nowMs);
    let events = input.issuedEvents;
    if (superseded.length > 0) {
      // one slot per guide: at most one token is superseded
      const revoked = { ...input.revokedEvent, tokenId: superseded[0]! } as TokenEvent;
      this.#events.append(revoked);
      events = [revoked, ...events];
    }
    for (const event of input.issuedEvents) this.#events.append(event);
    return { outcome: "saved", superseded, events };
  }

  /** {@link TokenStoreSteps.verifyStep}: the attempt, its counter, the lock and the events, at once. */
  async verifyStep(input: VerifyStepInput): Promise<VerifyStepResult> {
    const attempt = this.#attempt(input);
    let providerFailures: number | undefined;
    if (attempt.outcome === "mismatch") {
      const key = rateLimitKeys.failures(attempt.token.beneficiaryId);
      this.#increment(key, input.failureWindowMs, input.nowMs);
    } else if (attempt.outcome === "wrong_provider") {
      const { key, windowMs } = input.providerFailures;
      providerFailures = this.#count(this.#increment(key, windowMs, input.nowMs));
    }
    const events = verifyStepEvents(input, attempt, providerFailures);
    for (const event of events) this.#events.append(event);
    return { attempt, events };
  }

  /** {@link TokenStoreSteps.appVerifyBegin}: the budget reservation, the guide's app attempts and the secret. */
  async appVerifyBegin(input: AppVerifyBeginInput): Promise<AppVerifyBeginResult> {
    const { failures, attempts, nowMs } = input;
    if (this.#count(this.#increment(failures.key, failures.windowMs, nowMs)) > failures.max) {
      this.#decrement(failures.key, nowMs);
      this.#events.append(input.lockedEvent);
      return { outcome: "locked", events: [input.lockedEvent] };
    }
    const count = this.#count(this.#increment(attempts.key, attempts.windowMs, nowMs));
    if (count > attempts.max) {
      this.#decrement(failures.key, nowMs);
      this.#events.append(input.lockedEvent);
      return { outcome: "locked", events: [input.lockedEvent] };
    }
    const secret = this.#secrets.get(input.beneficiaryId);
    if (secret === undefined) {
      this.#decrement(failures.key, nowMs);
      return { outcome: "not_found" };
    }
    return { outcome: "compare", attempts: count, secret: { ...secret } };
  }

  /** {@link TokenStoreSteps.appVerifyFinish}: the settlement of the reserved unit, the claim and the events. */
  async appVerifyFinish(input: AppVerifyFinishInput): Promise<AppVerifyFinishResult> {
    if (!input.matched) {
      for (const event of input.events) this.#events.append(event);
      return { first: false, events: input.events };
    }
    const first = this.#claimOnce(input.claim.key, input.claim.expiresAtMs, input.nowMs);
    this.#decrement(input.failuresKey, input.nowMs);
    const event = first ? input.verifiedEvent : input.replayedEvent;
    this.#events.append(event);
    return { first, events: [event] };
  }

  // ---------------------------------------------------------------- purge

  /**
   * Removes tokens expired at `nowMs`, counters and claims past their window, and events past retention.
   *
   * Works in slices of at most 4 ms (or 16,384 slots) and yields to the event loop between them, so a large
   * store does not block the process (see `docs/benchmarks.md`). Each slot is checked and removed in one
   * synchronous step, so calls made meanwhile see a consistent store.
   */
  async purge(nowMs: number): Promise<PurgeResult> {
    const pacer = new Pacer(PURGE_SLICE_MS, PURGE_SLICE_SLOTS);
    let tokens = 0;
    let released = 0;
    for (let slot = 0; slot < this.#high; slot++) {
      const due = pacer.due();
      if (due !== undefined) await due;
      if (this.#guideKey[slot] === 0) continue;
      if (this.#hasToken[slot] && nowMs >= this.#times[slot * 2 + 1]!) {
        this.#dropToken(slot);
        tokens++;
      }
      if (!this.#hasToken[slot] && !this.#countersLive(slot, nowMs)) {
        this.#release(slot);
        released++;
      }
    }
    if (tokens > 0 || released > 0) {
      await this.#extra.rebuild((slot) => this.#hasToken[slot] === 1 && this.#hasExtra(slot), pacer);
      await this.#previous.rebuild(
        (slot) => this.#hasToken[slot] === 1 && (this.#meta[slot * 2 + 1]! & F_PREV) !== 0,
        pacer,
      );
    }
    await this.#counters.purge(nowMs, pacer);
    await this.#rebuildClaims(nowMs, pacer);
    const events = await this.#events.purge(nowMs - this.#eventRetentionMs, pacer);
    return { tokens, events };
  }

  /**
   * Every string and byte array the store holds (test helper). Lets a test prove that no plaintext code and no
   * clear contact ever reaches the store. Not for production use: it copies the whole state.
   */
  debugSnapshot(): MemoryStoreSnapshot {
    const strings: string[] = [];
    const bytes: Uint8Array[] = [];
    for (let slot = 0; slot < this.#high; slot++) {
      if (this.#guideKey[slot] === 0) continue;
      if (this.#gReset[slot * 2]! !== 0 || this.#gReset[slot * 2 + 1]! !== 0) {
        strings.push(
          this.#guides.text(this.#guideKey[slot]! - 1),
          String(this.#gCount[slot * 2]),
          String(this.#gCount[slot * 2 + 1]),
        );
      }
      if (!this.#hasToken[slot]) continue;
      const token = this.#read(slot);
      strings.push(token.guideId, token.tokenId, token.codeHash, token.beneficiaryId, token.providerId);
      const previous = this.#meta[slot * 2 + 1]! & F_PREV ? this.#previous.get(slot) : undefined;
      if (previous !== undefined) strings.push(previous.codeHash);
      bytes.push(this.#hash.slice(slot * HASH_BYTES, (slot + 1) * HASH_BYTES));
      bytes.push(this.#id.slice(slot * ID_BYTES, (slot + 1) * ID_BYTES));
    }
    this.#counters.snapshot(strings);
    for (const key of this.#claims.keys()) strings.push(key);
    for (const record of this.#secrets.values()) strings.push(...Object.values(record).map(String));
    this.#events.snapshot(strings, bytes);
    return { strings, bytes };
  }

  // ---------------------------------------------------------------- internals: tokens

  /** The slot of a guide, token or not. */
  #slotOf(guideId: string): number | undefined {
    const key = this.#guides.find(guideId);
    const tag = key < 0 ? 0 : this.#guides.tag(key);
    return tag === 0 ? undefined : tag - 1;
  }

  /** The slot of a guide's token, when it has one. */
  #tokenSlotOf(guideId: string): number | undefined {
    const slot = this.#slotOf(guideId);
    return slot !== undefined && this.#hasToken[slot] === 1 ? slot : undefined;
  }

  /** A new slot for `guideId` (no token, no counters yet). */
  #addGuide(guideId: string): number {
    const slot = this.#allocate();
    const key = this.#guides.acquire(guideId);
    this.#guides.setTag(key, slot + 1);
    this.#guideKey[slot] = key + 1;
    return slot;
  }

  /** `save`, synchronous: the ids of the tokens superseded. */
  #save(token: NewToken): string[] {
    this.#sweep(token.issuedAtMs);
    const slot = this.#slotOf(token.guideId) ?? this.#addGuide(token.guideId);
    if (this.#hasToken[slot] === 0) {
      this.#hasToken[slot] = 1;
      this.#tokens++;
      this.#write(slot, token);
      return [];
    }
    // The previous token is replaced; it is reported as superseded when it was still active (unexpired).
    const superseded: string[] = [];
    const m1 = this.#meta[slot * 2 + 1]!;
    const expiresAtMs = this.#times[slot * 2 + 1]!;
    const live = (m1 & 3) === ACTIVE && token.issuedAtMs < expiresAtMs;
    if (live) {
      superseded.push(this.#tokenId(slot, m1));
      this.#previous.set(slot, { codeHash: this.#codeHash(slot, m1), expiresAtMs });
    } else if (m1 & F_PREV) this.#previous.delete(slot);
    if (this.#hasExtra(slot)) this.#extra.delete(slot);
    this.#write(slot, token);
    if (live) this.#meta[slot * 2 + 1] = (this.#meta[slot * 2 + 1]! | F_PREV) >>> 0;
    return superseded;
  }

  /** `attempt`, synchronous. */
  #attempt(input: AttemptInput): AttemptResult {
    const slot = this.#tokenSlotOf(input.guideId);
    if (slot === undefined) return { outcome: "not_found" };
    const m1 = this.#meta[slot * 2 + 1]!;
    const status = m1 & 3;
    if (status === REVOKED) return { outcome: "revoked", token: this.#read(slot) };
    if (status === CONSUMED) return { outcome: "consumed", token: this.#read(slot) };
    if (input.nowMs >= this.#times[slot * 2 + 1]!) return { outcome: "expired", token: this.#read(slot) };
    if (status === LOCKED) return { outcome: "locked", token: this.#read(slot) };
    let wrong: "wrong_provider" | "mismatch" | undefined;
    if (this.#providerOf(slot, m1) !== input.providerId) wrong = "wrong_provider";
    else if (!this.#hashEquals(slot, m1, input.candidateHash)) wrong = "mismatch";
    if (wrong === "mismatch" && m1 & F_PREV) {
      const previous = this.#previous.get(slot);
      if (
        previous !== undefined &&
        input.nowMs < previous.expiresAtMs &&
        equalText(previous.codeHash, input.candidateHash)
      ) {
        return { outcome: "superseded", token: this.#read(slot) };
      }
    }
    if (wrong) {
      const m0 = this.#meta[slot * 2]!;
      const attempts = (m0 & 0xffff) + 1;
      const max = m0 >>> 16;
      this.#meta[slot * 2] = (m0 & 0xffff0000) | attempts;
      if (attempts >= max) this.#meta[slot * 2 + 1] = (m1 & ~3) | LOCKED;
      return { outcome: wrong, token: this.#read(slot), attemptsLeft: Math.max(0, max - attempts) };
    }
    this.#meta[slot * 2 + 1] = (m1 & ~3) | CONSUMED;
    return { outcome: "ok", token: this.#read(slot) };
  }

  #allocate(): number {
    const reused = this.#free;
    if (reused >= 0) {
      this.#free = this.#beneficiaryKey[reused]! - 1;
      this.#beneficiaryKey[reused] = 0;
      return reused;
    }
    const slot = this.#high++;
    if (slot >= this.#capacity) this.#grow(Math.max(1024, this.#capacity * 2));
    return slot;
  }

  #grow(capacity: number): void {
    this.#times = grown(this.#times, new Float64Array(capacity * 2));
    this.#meta = grown(this.#meta, new Uint32Array(capacity * 2));
    this.#hash = grown(this.#hash, new Uint8Array(capacity * HASH_BYTES));
    this.#id = grown(this.#id, new Uint8Array(capacity * ID_BYTES));
    this.#guideKey = grown(this.#guideKey, new Int32Array(capacity));
    this.#beneficiaryKey = grown(this.#beneficiaryKey, new Int32Array(capacity));
    this.#hasToken = grown(this.#hasToken, new Uint8Array(capacity));
    this.#gCount = grown(this.#gCount, new Uint32Array(capacity * 2));
    this.#gReset = grown(this.#gReset, new Float64Array(capacity * 2));
    this.#capacity = capacity;
  }

  /** Removes a slot's token; the slot stays (with its counters) until `#release`. */
  #dropToken(slot: number): void {
    this.#hasToken[slot] = 0;
    this.#tokens--;
    this.#beneficiaries.release(this.#beneficiaryKey[slot]! - 1); // its side-map entries go with the next rebuild
    this.#beneficiaryKey[slot] = 0;
    this.#hash.fill(0, slot * HASH_BYTES, (slot + 1) * HASH_BYTES);
    this.#meta[slot * 2] = 0;
    this.#meta[slot * 2 + 1] = 0;
    this.#times[slot * 2] = 0;
    this.#times[slot * 2 + 1] = 0;
  }

  /** Frees a slot (its token, if any, and its counters). */
  #release(slot: number): void {
    if (this.#hasToken[slot]) this.#dropToken(slot);
    const key = this.#guideKey[slot]! - 1;
    this.#guides.setTag(key, 0);
    this.#guides.release(key);
    this.#guideKey[slot] = 0;
    this.#gCount[slot * 2] = 0;
    this.#gCount[slot * 2 + 1] = 0;
    this.#gReset[slot * 2] = 0;
    this.#gReset[slot * 2 + 1] = 0;
    this.#beneficiaryKey[slot] = this.#free + 1;
    this.#free = slot;
  }

  /** Whether either of a slot's counters has a live window at `nowMs`. */
  #countersLive(slot: number, nowMs: number): boolean {
    return nowMs < this.#gReset[slot * 2]! || nowMs < this.#gReset[slot * 2 + 1]!;
  }

  #write(slot: number, token: NewToken): void {
    const previous = this.#beneficiaryKey[slot]!;
    this.#beneficiaryKey[slot] = this.#beneficiaries.acquire(token.beneficiaryId) + 1;
    if (previous !== 0) this.#beneficiaries.release(previous - 1);
    this.#times[slot * 2] = token.issuedAtMs;
    this.#times[slot * 2 + 1] = token.expiresAtMs;
    const max = Math.min(0xffff, Math.max(0, token.maxAttempts));
    this.#meta[slot * 2] = (max << 16) >>> 0;
    let flags = 0;
    let extra: TokenExtra | undefined;
    if (decodeH1(token.codeHash, this.#hash, slot * HASH_BYTES)) flags |= F_HASH;
    else extra = { ...extra, codeHash: token.codeHash };
    if (
      token.tokenId.length === 16 &&
      base64urlDecodeInto(token.tokenId, this.#id, slot * ID_BYTES, ID_BYTES)
    ) {
      flags |= F_ID;
    } else extra = { ...extra, tokenId: token.tokenId };
    let provider = this.#providers.slot(token.providerId);
    if (provider < 0) {
      extra = { ...extra, providerId: token.providerId };
      provider = PROVIDER_LIMIT;
    }
    if (extra !== undefined) this.#extra.set(slot, extra);
    this.#meta[slot * 2 + 1] = (ACTIVE | (CHANNEL_INDEX[token.channel] << 2) | flags | (provider << 6)) >>> 0;
  }

  #tokenId(slot: number, m1: number): string {
    if (m1 & F_ID) return base64urlEncode(this.#id.subarray(slot * ID_BYTES, (slot + 1) * ID_BYTES));
    return this.#extra.get(slot)?.tokenId ?? "";
  }

  #codeHash(slot: number, m1: number): string {
    if (m1 & F_HASH) {
      return H1_PREFIX + base64urlEncode(this.#hash.subarray(slot * HASH_BYTES, (slot + 1) * HASH_BYTES));
    }
    return this.#extra.get(slot)?.codeHash ?? "";
  }

  /** Whether the slot's token has a field kept in `#extra` (read from its flags). */
  #hasExtra(slot: number): boolean {
    const m1 = this.#meta[slot * 2 + 1]!;
    return (m1 & (F_HASH | F_ID)) !== (F_HASH | F_ID) || ((m1 >>> 6) & PROVIDER_LIMIT) === PROVIDER_LIMIT;
  }

  #providerOf(slot: number, m1: number): string {
    const index = (m1 >>> 6) & PROVIDER_LIMIT;
    return index === PROVIDER_LIMIT
      ? (this.#extra.get(slot)?.providerId ?? "")
      : this.#providers.values[index]!;
  }

  #scratch = new Uint8Array(HASH_BYTES);

  #hashEquals(slot: number, m1: number, candidate: string): boolean {
    if (m1 & F_HASH) {
      if (!decodeH1(candidate, this.#scratch, 0)) return false;
      let diff = 0;
      const base = slot * HASH_BYTES;
      for (let i = 0; i < HASH_BYTES; i++) diff |= this.#hash[base + i]! ^ this.#scratch[i]!;
      return diff === 0;
    }
    return equalText(this.#extra.get(slot)?.codeHash ?? "", candidate);
  }

  #read(slot: number): StoredToken {
    const m0 = this.#meta[slot * 2]!;
    const m1 = this.#meta[slot * 2 + 1]!;
    return {
      tokenId: this.#tokenId(slot, m1),
      guideId: this.#guides.text(this.#guideKey[slot]! - 1),
      providerId: this.#providerOf(slot, m1),
      beneficiaryId: this.#beneficiaries.text(this.#beneficiaryKey[slot]! - 1),
      codeHash: this.#codeHash(slot, m1),
      issuedAtMs: this.#times[slot * 2]!,
      expiresAtMs: this.#times[slot * 2 + 1]!,
      maxAttempts: m0 >>> 16,
      attempts: m0 & 0xffff,
      status: STATUS[m1 & 3]!,
      channel: CHANNEL_LIST[(m1 >>> 2) & 3]!,
    };
  }

  /** Lazy purge: looks at two slots per save and drops tokens expired for longer than the grace. */
  #sweep(nowMs: number): void {
    const end = this.#high;
    if (end === 0) return;
    for (let n = 0; n < 2; n++) {
      if (this.#hand >= end) this.#hand = 0;
      const slot = this.#hand++;
      if (this.#guideKey[slot] === 0) continue;
      if (this.#hasToken[slot] && nowMs >= this.#times[slot * 2 + 1]! + this.#graceMs) this.#dropToken(slot);
      if (!this.#hasToken[slot] && !this.#countersLive(slot, nowMs)) this.#release(slot);
    }
  }

  // ---------------------------------------------------------------- internals: counters, claims

  /**
   * Whether `key` is a guide's cooldown or sends (`rateLimitKeys`): then `#family` and `#part` (the guide's key
   * part, the slot's guide id) are set for the call right after.
   */
  #route(key: string): boolean {
    if (key.length > 6 && key.charCodeAt(0) === 114 /* r */) {
      const family = key.startsWith(COOLDOWN) ? 0 : key.startsWith(SENDS) ? 1 : -1;
      if (family >= 0) {
        this.#family = family;
        this.#part = key.slice(6);
        return true;
      }
    }
    this.#family = -1;
    return false;
  }

  /** The routed guide counter's cell while its window is live at `nowMs`, else -1. */
  #liveGuideCell(nowMs: number): number {
    const slot = this.#slotOf(this.#part);
    if (slot === undefined) return -1;
    const cell = slot * 2 + this.#family;
    return nowMs < this.#gReset[cell]! ? cell : -1;
  }

  /** The cell of `key`'s counter while live at `nowMs`, else -1; read it with `#count`/`#resetAt`. */
  #live(key: string, nowMs: number): number {
    return this.#route(key) ? this.#liveGuideCell(nowMs) : this.#counters.live(key, nowMs);
  }

  /** One hit on `key` (a new window of `windowMs` when none is live); its cell. */
  #increment(key: string, windowMs: number, nowMs: number): number {
    if (!this.#route(key)) return this.#counters.increment(key, windowMs, nowMs);
    const part = this.#part;
    const family = this.#family;
    this.#sweep(nowMs);
    const slot = this.#slotOf(part) ?? this.#addGuide(part);
    const cell = slot * 2 + family;
    this.#family = family; // the sweep may have routed nothing, but keep the reads on this cell
    if (nowMs >= this.#gReset[cell]!) {
      this.#gCount[cell] = 1;
      this.#gReset[cell] = nowMs + windowMs;
    } else if (this.#gCount[cell]! < MAX_COUNT) this.#gCount[cell] = this.#gCount[cell]! + 1;
    return cell;
  }

  /** The count of the cell `#live` or `#increment` just returned. */
  #count(cell: number): number {
    return this.#family >= 0 ? this.#gCount[cell]! : this.#counters.count(cell);
  }

  /** The window's end of the cell `#live` or `#increment` just returned. */
  #resetAt(cell: number): number {
    return this.#family >= 0 ? this.#gReset[cell]! : this.#counters.resetAt(cell);
  }

  /** `claimOnce`, synchronous. */
  #claimOnce(key: string, expiresAtMs: number, nowMs: number): boolean {
    this.#sweepClaims(nowMs);
    const until = this.#claims.get(key) ?? this.#claimsDraining?.get(key);
    if (until !== undefined && nowMs < until) return false;
    this.#claims.set(key, expiresAtMs);
    return true;
  }

  /** Keeps the live claims only, in a fresh map built in slices (see `#counters`). */
  async #rebuildClaims(nowMs: number, pacer: Pacer): Promise<void> {
    if (this.#claimsDraining !== undefined || this.#claims.size === 0) return;
    const old = this.#claims;
    const fresh = new Map<string, number>();
    this.#claimsDraining = old;
    this.#claims = fresh;
    this.#claimSweep = undefined;
    try {
      for (const [key, until] of old) {
        const due = pacer.due();
        if (due !== undefined) await due;
        if (nowMs < until && !fresh.has(key)) fresh.set(key, until);
      }
    } finally {
      this.#claimsDraining = undefined;
    }
  }

  #sweepClaims(nowMs: number): void {
    for (let n = 0; n < 2; n++) {
      this.#claimSweep ??= this.#claims.entries();
      const next = this.#claimSweep.next();
      if (next.done) {
        this.#claimSweep = undefined;
        return;
      }
      const [key, until] = next.value;
      if (nowMs >= until) this.#claims.delete(key);
    }
  }
}

/** The fields of a token without a compact form (a hash or id in another format; rare). */
interface TokenExtra {
  codeHash?: string;
  tokenId?: string;
  providerId?: string;
}
