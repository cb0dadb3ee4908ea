/**
 * `MemoryTokenStore`: the in-process {@link TokenStore}, the default of the token service and the store of
 * the tests. Every method runs in one synchronous section (no `await` between a read and its write), so it is
 * atomic within the process. Data lives in the heap: it is lost on restart and not shared between processes;
 * use the Redis or PostgreSQL store for more than one process.
 *
 * Compact by design: a token is a slot in typed arrays (its 32-byte hash and 12-byte id as bytes, times as
 * doubles, attempts/status/channel packed), provider ids are interned, and events are columns, so a million
 * active tokens fit in a few hundred megabytes (see `docs/benchmarks.md`).
 *
 * @module
 */
import { base64urlDecodeInto, base64urlEncode } from "../_internal/ids.js";
import type { TokenEvent, TokenEventType } from "../ports/events.js";
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
const EVENT_TYPES: readonly TokenEventType[] = [
  "token.issued",
  "token.delivered",
  "token.delivery_failed",
  "token.verified",
  "token.rejected",
  "token.locked",
  "token.revoked",
  "token.reported_unrequested",
  "app.enrolled",
  "token.delivery_started",
  "token.delivery_status",
  "lockout.reset",
];
/** The rare fields of an event (delivery details, a guardian's dependent, a provider's count), kept beside the columns. */
const DELIVERY_FIELDS = [
  "dependentId",
  "providerFailures",
  "deliveryId",
  "mode",
  "deadlineAtMs",
  "durationMs",
  "providerMessageId",
  "deliveryStatus",
  "provider",
  "providerCode",
] as const satisfies readonly (keyof TokenEvent)[];
type DeliveryFields = Partial<Pick<TokenEvent, (typeof DELIVERY_FIELDS)[number]>>;
const EVENT_TYPE_INDEX = new Map(EVENT_TYPES.map((t, i) => [t, i]));
const RECIPIENTS = ["beneficiary", "guardian"] as const;

/** Slots (tokens, counters, claims, event chains) `purge` handles before it yields to the event loop. */
const PURGE_CHUNK = 8192;

/** Lets the event loop run (I/O, timers) between two chunks of a long `purge`. */
function yieldToLoop(): Promise<void> {
  return new Promise((resolve) => {
    if (typeof setImmediate === "function") setImmediate(resolve);
    else setTimeout(resolve, 0);
  });
}

const HASH_BYTES = 32;
const ID_BYTES = 12;
const H1_PREFIX = "h1:";
const DAY_MS = 86_400_000;

// meta0: attempts (low 16 bits) | maxAttempts (high 16 bits)
// meta1: status (2 bits) | channel (2) | compact hash (1) | compact id (1) | provider index (<< 6)
const F_HASH = 1 << 4;
const F_ID = 1 << 5;

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
export class MemoryTokenStore implements TokenStore {
  readonly #eventRetentionMs: number;
  readonly #maxEvents: number;
  readonly #graceMs: number;

  // Tokens: one slot per guide (the latest token).
  #capacity = 0;
  #slotByGuide = new Map<string, number>();
  #guide: (string | undefined)[] = [];
  #beneficiary: (string | undefined)[] = [];
  #times = new Float64Array(0); // [issuedAtMs, expiresAtMs] per slot
  #meta = new Uint32Array(0); // [meta0, meta1] per slot
  #hash = new Uint8Array(0);
  #id = new Uint8Array(0);
  #extra = new Map<number, { codeHash?: string; tokenId?: string }>();
  // The hash and expiry of the token a slot's token superseded, while that one was still live (rare: kept aside).
  #previous = new Map<number, { codeHash: string; expiresAtMs: number }>();
  #free: number[] = [];
  #used = 0;
  #hand = 0;

  // Interned provider ids.
  #providers: string[] = [];
  #providerIndex = new Map<string, number>();

  // Counters, claims, app secrets.
  #counters = new Map<string, { count: number; resetAtMs: number }>();
  #counterSweep: Iterator<[string, { count: number; resetAtMs: number }]> | undefined;
  #claims = new Map<string, number>();
  #claimSweep: Iterator<[string, number]> | undefined;
  #secrets = new Map<string, AppSecretRecord>();

  // Events: columns, one slot per event. Each beneficiary has a doubly linked chain of slots sorted by
  // (atMs, insertion), newest at the head. Ids in the service's format (16 base64url characters) are kept as
  // 12 bytes; providers and reasons are interned.
  #evCapacity = 0;
  #evHigh = 0;
  #evRefs: (string | undefined)[] = []; // [beneficiaryId, guideId, tokenId, maskedContact] per slot
  #evIdBytes = new Uint8Array(0);
  #evAt = new Float64Array(0);
  #evMeta = new Uint32Array(0); // type (4) | channel+1 (3) | recipient+1 (2) | compact id (1) | reason (<< 10, 8)
  #evLeft = new Uint16Array(0); // attemptsLeft + 1, 0 when absent
  #evProv = new Uint32Array(0); // provider index + 1, 0 when absent
  #evOlder = new Int32Array(0);
  #evNewer = new Int32Array(0);
  #evExtra = new Map<
    number,
    { id?: string; providerId?: string; reason?: string; delivery?: DeliveryFields }
  >();
  #evFree: number[] = [];
  // Event id → slot, so `before` jumps to its cursor instead of walking the chain: a hash table of slot chains
  // (bucket heads, and per slot the next slot of its bucket), 8 bytes per event; the newest append comes first.
  #evBucket = new Int32Array(0);
  #evNextInBucket = new Int32Array(0);
  #reasons: string[] = [];
  #reasonIndex = new Map<string, number>();
  // Chains: beneficiaryId → chain index; head (newest), tail (oldest), count per chain.
  #chainOf = new Map<string, number>();
  #chHead = new Int32Array(0);
  #chTail = new Int32Array(0);
  #chCount = new Int32Array(0);
  #chDropped = new Int32Array(0); // events the cap dropped from the chain
  #chFree: number[] = [];
  #chHigh = 0;

  /** @param options - retention, per-beneficiary cap and lazy-purge grace */
  constructor(options: MemoryTokenStoreOptions = {}) {
    this.#eventRetentionMs = options.eventRetentionMs ?? 365 * DAY_MS;
    this.#maxEvents = Math.max(1, options.maxEventsPerBeneficiary ?? 1000);
    this.#graceMs = options.expiredGraceMs ?? 3_600_000;
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
    const chain = this.#chainOf.get(beneficiaryId);
    return chain === undefined ? 0 : this.#chDropped[chain]!;
  }

  /** Active, consumed, revoked and locked tokens currently held (one per guide). */
  get size(): number {
    return this.#used;
  }

  // ---------------------------------------------------------------- tokens

  async save(token: NewToken): Promise<{ superseded: string[] }> {
    this.#sweep(token.issuedAtMs);
    const superseded: string[] = [];
    let slot = this.#slotByGuide.get(token.guideId);
    if (slot === undefined) {
      slot = this.#allocate();
      this.#slotByGuide.set(token.guideId, slot);
      this.#guide[slot] = token.guideId;
      this.#used++;
    } else {
      // The previous token is replaced; it is reported as superseded when it was still active (unexpired).
      const m1 = this.#meta[slot * 2 + 1]!;
      const expiresAtMs = this.#times[slot * 2 + 1]!;
      if ((m1 & 3) === ACTIVE && token.issuedAtMs < expiresAtMs) {
        superseded.push(this.#tokenId(slot));
        this.#previous.set(slot, { codeHash: this.#codeHash(slot, m1), expiresAtMs });
      } else this.#previous.delete(slot);
      this.#extra.delete(slot);
    }
    this.#write(slot, token);
    return { superseded };
  }

  async attempt(input: AttemptInput): Promise<AttemptResult> {
    const slot = this.#slotByGuide.get(input.guideId);
    if (slot === undefined) return { outcome: "not_found" };
    const m1 = this.#meta[slot * 2 + 1]!;
    const status = m1 & 3;
    if (status === REVOKED) return { outcome: "revoked", token: this.#read(slot) };
    if (status === CONSUMED) return { outcome: "consumed", token: this.#read(slot) };
    if (input.nowMs >= this.#times[slot * 2 + 1]!) return { outcome: "expired", token: this.#read(slot) };
    if (status === LOCKED) return { outcome: "locked", token: this.#read(slot) };
    let wrong: "wrong_provider" | "mismatch" | undefined;
    if (this.#providers[m1 >>> 6] !== input.providerId) wrong = "wrong_provider";
    else if (!this.#hashEquals(slot, m1, input.candidateHash)) wrong = "mismatch";
    if (wrong === "mismatch" && this.#previous.size > 0) {
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

  async revoke(guideId: string, nowMs: number): Promise<StoredToken | undefined> {
    const slot = this.#slotByGuide.get(guideId);
    if (slot === undefined) return undefined;
    const m1 = this.#meta[slot * 2 + 1]!;
    if ((m1 & 3) !== ACTIVE || nowMs >= this.#times[slot * 2 + 1]!) return undefined;
    const before = this.#read(slot);
    this.#meta[slot * 2 + 1] = (m1 & ~3) | REVOKED;
    return before;
  }

  async get(guideId: string): Promise<StoredToken | undefined> {
    const slot = this.#slotByGuide.get(guideId);
    return slot === undefined ? undefined : this.#read(slot);
  }

  // ---------------------------------------------------------------- counters, claims, secrets

  async increment(key: string, windowMs: number, nowMs: number): Promise<CounterState> {
    this.#sweepCounters(nowMs);
    const current = this.#counters.get(key);
    if (current === undefined || nowMs >= current.resetAtMs) {
      const fresh = { count: 1, resetAtMs: nowMs + windowMs };
      this.#counters.set(key, fresh);
      return { count: 1, resetAtMs: fresh.resetAtMs };
    }
    current.count++;
    return { count: current.count, resetAtMs: current.resetAtMs };
  }

  async decrement(key: string, nowMs: number): Promise<CounterState> {
    const current = this.#counters.get(key);
    if (current === undefined || nowMs >= current.resetAtMs) return { count: 0, resetAtMs: 0 };
    if (current.count > 0) current.count--;
    return { count: current.count, resetAtMs: current.resetAtMs };
  }

  async peek(key: string, nowMs: number): Promise<CounterState> {
    const current = this.#counters.get(key);
    if (current === undefined || nowMs >= current.resetAtMs) return { count: 0, resetAtMs: 0 };
    return { count: current.count, resetAtMs: current.resetAtMs };
  }

  async claimOnce(key: string, expiresAtMs: number, nowMs: number): Promise<boolean> {
    this.#sweepClaims(nowMs);
    const until = this.#claims.get(key);
    if (until !== undefined && nowMs < until) return false;
    this.#claims.set(key, expiresAtMs);
    return true;
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
    const slot = this.#evAllocate();
    const r = slot * 4;
    this.#evRefs[r] = event.beneficiaryId;
    this.#evRefs[r + 1] = event.guideId;
    this.#evRefs[r + 2] = event.tokenId;
    this.#evRefs[r + 3] = event.maskedContact;
    this.#evAt[slot] = event.atMs;
    let extra: { id?: string; providerId?: string; reason?: string; delivery?: DeliveryFields } | undefined;
    for (const field of DELIVERY_FIELDS) {
      if (event[field] === undefined) continue;
      extra ??= {};
      extra.delivery = { ...extra.delivery, [field]: event[field] };
    }
    let compactId = 0;
    if (event.id.length === 16 && base64urlDecodeInto(event.id, this.#evIdBytes, slot * ID_BYTES, ID_BYTES)) {
      compactId = 1;
    } else {
      extra = { ...extra, id: event.id };
    }
    if (event.providerId !== undefined) {
      const known = this.#providerIndex.get(event.providerId);
      if (known !== undefined || this.#providers.length < 65_536) {
        this.#evProv[slot] = (known ?? this.#providerSlot(event.providerId)) + 1;
      } else {
        extra ??= {};
        extra.providerId = event.providerId;
      }
    }
    let reason = 0;
    if (event.reason !== undefined) {
      const index = this.#reasonIndex.get(event.reason);
      if (index !== undefined) reason = index + 1;
      else if (this.#reasons.length < 254) {
        this.#reasons.push(event.reason);
        this.#reasonIndex.set(event.reason, this.#reasons.length - 1);
        reason = this.#reasons.length;
      } else {
        extra ??= {};
        extra.reason = event.reason;
      }
    }
    if (extra) this.#evExtra.set(slot, extra);
    const type = EVENT_TYPE_INDEX.get(event.type) ?? 0;
    const channel = event.channel === undefined ? 0 : CHANNEL_INDEX[event.channel] + 1;
    const recipient = event.recipient === undefined ? 0 : RECIPIENTS.indexOf(event.recipient) + 1;
    this.#evMeta[slot] = type | (channel << 4) | (recipient << 7) | (compactId << 9) | (reason << 10);
    this.#evLeft[slot] = event.attemptsLeft === undefined ? 0 : Math.min(event.attemptsLeft, 0xfffe) + 1;

    let chain = this.#chainOf.get(event.beneficiaryId);
    if (chain === undefined) {
      chain = this.#chAllocate();
      this.#chainOf.set(event.beneficiaryId, chain);
    }
    const head = this.#chHead[chain]!;
    if (head < 0) {
      this.#evOlder[slot] = -1;
      this.#evNewer[slot] = -1;
      this.#chHead[chain] = slot;
      this.#chTail[chain] = slot;
    } else {
      // Find the newest event at or before atMs (ties keep insertion order); usually the head itself.
      let after = head;
      while (after >= 0 && this.#evAt[after]! > event.atMs) after = this.#evOlder[after]!;
      if (after === head) {
        this.#evOlder[slot] = head;
        this.#evNewer[slot] = -1;
        this.#evNewer[head] = slot;
        this.#chHead[chain] = slot;
      } else if (after < 0) {
        const tail = this.#chTail[chain]!;
        this.#evOlder[slot] = -1;
        this.#evNewer[slot] = tail;
        this.#evOlder[tail] = slot;
        this.#chTail[chain] = slot;
      } else {
        const newer = this.#evNewer[after]!;
        this.#evOlder[slot] = after;
        this.#evNewer[slot] = newer;
        this.#evNewer[after] = slot;
        this.#evOlder[newer] = slot;
      }
    }
    this.#chCount[chain] = this.#chCount[chain]! + 1;
    this.#evIndex(slot, event.id);
    while (this.#chCount[chain]! > this.#maxEvents) {
      this.#dropOldest(chain);
      this.#chDropped[chain] = this.#chDropped[chain]! + 1;
    }
  }

  async listEvents(beneficiaryId: string, options: ListEventsOptions): Promise<TokenEvent[]> {
    const chain = this.#chainOf.get(beneficiaryId);
    if (chain === undefined) return [];
    const limit = Math.min(1000, Math.max(1, Math.floor(options.limit) || 1));
    let slot = this.#chHead[chain]!;
    if (options.before !== undefined) {
      slot = this.#evFind(beneficiaryId, options.before);
      if (slot < 0) return [];
      slot = this.#evOlder[slot]!;
    }
    const out: TokenEvent[] = [];
    for (; slot >= 0 && out.length < limit; slot = this.#evOlder[slot]!) out.push(this.#evRead(slot));
    return out;
  }

  // ---------------------------------------------------------------- purge

  /**
   * Removes tokens expired at `nowMs`, counters and claims past their window, and events past retention.
   *
   * Runs in chunks of a few thousand slots and yields to the event loop between them, so a large store does
   * not block the process (1M tokens: one 0.75 s block before; see `docs/benchmarks.md`). Each slot is checked
   * and removed in one synchronous step, so calls made meanwhile see a consistent store.
   */
  async purge(nowMs: number): Promise<PurgeResult> {
    let tokens = 0;
    for (let slot = 0; slot < this.#used + this.#free.length; slot++) {
      if (slot > 0 && slot % PURGE_CHUNK === 0) await yieldToLoop();
      const guideId = this.#guide[slot];
      if (guideId !== undefined && nowMs >= this.#times[slot * 2 + 1]!) {
        this.#slotByGuide.delete(guideId);
        this.#release(slot);
        tokens++;
      }
    }
    let n = 0;
    for (const [key, state] of this.#counters) {
      if (++n % PURGE_CHUNK === 0) await yieldToLoop();
      if (nowMs >= state.resetAtMs) this.#counters.delete(key);
    }
    for (const [key, until] of this.#claims) {
      if (++n % PURGE_CHUNK === 0) await yieldToLoop();
      if (nowMs >= until) this.#claims.delete(key);
    }
    let events = 0;
    const horizon = nowMs - this.#eventRetentionMs;
    for (const [beneficiaryId, chain] of this.#chainOf) {
      if (++n % PURGE_CHUNK === 0) await yieldToLoop();
      while (this.#chCount[chain]! > 0 && this.#evAt[this.#chTail[chain]!]! < horizon) {
        this.#dropOldest(chain);
        events++;
        if (++n % PURGE_CHUNK === 0) await yieldToLoop();
        if (this.#chainOf.get(beneficiaryId) !== chain) break;
      }
      if (this.#chainOf.get(beneficiaryId) === chain && this.#chCount[chain] === 0) {
        this.#chainOf.delete(beneficiaryId);
        this.#chFree.push(chain);
      }
    }
    return { tokens, events };
  }

  /**
   * Every string and byte array the store holds (test helper). Lets a test prove that no plaintext code and no
   * clear contact ever reaches the store. Not for production use: it copies the whole state.
   */
  debugSnapshot(): MemoryStoreSnapshot {
    const strings: string[] = [];
    const bytes: Uint8Array[] = [];
    for (const [guideId, slot] of this.#slotByGuide) {
      const token = this.#read(slot);
      strings.push(guideId, token.tokenId, token.codeHash, token.beneficiaryId, token.providerId);
      const previous = this.#previous.get(slot);
      if (previous !== undefined) strings.push(previous.codeHash);
      bytes.push(this.#hash.slice(slot * HASH_BYTES, (slot + 1) * HASH_BYTES));
      bytes.push(this.#id.slice(slot * ID_BYTES, (slot + 1) * ID_BYTES));
    }
    for (const [key, state] of this.#counters) strings.push(key, String(state.count));
    for (const key of this.#claims.keys()) strings.push(key);
    for (const record of this.#secrets.values()) strings.push(...Object.values(record).map(String));
    for (const chain of this.#chainOf.values()) {
      for (let slot = this.#chHead[chain]!; slot >= 0; slot = this.#evOlder[slot]!) {
        strings.push(...Object.values(this.#evRead(slot)).map(String));
        bytes.push(this.#evIdBytes.slice(slot * ID_BYTES, (slot + 1) * ID_BYTES));
      }
    }
    return { strings, bytes };
  }

  // ---------------------------------------------------------------- internals

  #providerSlot(providerId: string): number {
    let index = this.#providerIndex.get(providerId);
    if (index === undefined) {
      index = this.#providers.length;
      this.#providers.push(providerId);
      this.#providerIndex.set(providerId, index);
    }
    return index;
  }

  #allocate(): number {
    const reused = this.#free.pop();
    if (reused !== undefined) return reused;
    const slot = this.#used + this.#free.length;
    if (slot >= this.#capacity) this.#grow(Math.max(1024, this.#capacity * 2));
    return slot;
  }

  #grow(capacity: number): void {
    const times = new Float64Array(capacity * 2);
    times.set(this.#times);
    this.#times = times;
    const meta = new Uint32Array(capacity * 2);
    meta.set(this.#meta);
    this.#meta = meta;
    const hash = new Uint8Array(capacity * HASH_BYTES);
    hash.set(this.#hash);
    this.#hash = hash;
    const id = new Uint8Array(capacity * ID_BYTES);
    id.set(this.#id);
    this.#id = id;
    this.#capacity = capacity;
  }

  #release(slot: number): void {
    this.#guide[slot] = undefined;
    this.#beneficiary[slot] = undefined;
    this.#extra.delete(slot);
    this.#previous.delete(slot);
    this.#hash.fill(0, slot * HASH_BYTES, (slot + 1) * HASH_BYTES);
    this.#meta[slot * 2] = 0;
    this.#meta[slot * 2 + 1] = 0;
    this.#times[slot * 2] = 0;
    this.#times[slot * 2 + 1] = 0;
    this.#free.push(slot);
    this.#used--;
  }

  #write(slot: number, token: NewToken): void {
    this.#beneficiary[slot] = token.beneficiaryId;
    this.#times[slot * 2] = token.issuedAtMs;
    this.#times[slot * 2 + 1] = token.expiresAtMs;
    const max = Math.min(0xffff, Math.max(0, token.maxAttempts));
    this.#meta[slot * 2] = (max << 16) >>> 0;
    let flags = 0;
    const extra: { codeHash?: string; tokenId?: string } = {};
    if (decodeH1(token.codeHash, this.#hash, slot * HASH_BYTES)) flags |= F_HASH;
    else extra.codeHash = token.codeHash;
    if (
      token.tokenId.length === 16 &&
      base64urlDecodeInto(token.tokenId, this.#id, slot * ID_BYTES, ID_BYTES)
    ) {
      flags |= F_ID;
    } else extra.tokenId = token.tokenId;
    if (!(flags & F_HASH) || !(flags & F_ID)) this.#extra.set(slot, extra);
    const provider = this.#providerSlot(token.providerId);
    this.#meta[slot * 2 + 1] = (ACTIVE | (CHANNEL_INDEX[token.channel] << 2) | flags | (provider << 6)) >>> 0;
  }

  #tokenId(slot: number): string {
    if (this.#meta[slot * 2 + 1]! & F_ID) {
      return base64urlEncode(this.#id.subarray(slot * ID_BYTES, (slot + 1) * ID_BYTES));
    }
    return this.#extra.get(slot)?.tokenId ?? "";
  }

  #codeHash(slot: number, m1: number): string {
    if (m1 & F_HASH) {
      return H1_PREFIX + base64urlEncode(this.#hash.subarray(slot * HASH_BYTES, (slot + 1) * HASH_BYTES));
    }
    return this.#extra.get(slot)?.codeHash ?? "";
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
      tokenId: this.#tokenId(slot),
      guideId: this.#guide[slot]!,
      providerId: this.#providers[m1 >>> 6]!,
      beneficiaryId: this.#beneficiary[slot]!,
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
    const end = this.#used + this.#free.length;
    if (end === 0) return;
    for (let n = 0; n < 2; n++) {
      if (this.#hand >= end) this.#hand = 0;
      const slot = this.#hand++;
      const guideId = this.#guide[slot];
      if (guideId !== undefined && nowMs >= this.#times[slot * 2 + 1]! + this.#graceMs) {
        this.#slotByGuide.delete(guideId);
        this.#release(slot);
      }
    }
  }

  #sweepCounters(nowMs: number): void {
    for (let n = 0; n < 2; n++) {
      this.#counterSweep ??= this.#counters.entries();
      const next = this.#counterSweep.next();
      if (next.done) {
        this.#counterSweep = undefined;
        return;
      }
      const [key, state] = next.value;
      if (nowMs >= state.resetAtMs) this.#counters.delete(key);
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

  #evAllocate(): number {
    const reused = this.#evFree.pop();
    if (reused !== undefined) return reused;
    const slot = this.#evHigh++;
    if (slot >= this.#evCapacity) {
      const capacity = Math.max(1024, this.#evCapacity * 2);
      const grow = <T extends Float64Array | Uint32Array | Uint16Array | Int32Array | Uint8Array>(
        old: T,
        make: (n: number) => T,
        per = 1,
      ): T => {
        const next = make(capacity * per);
        next.set(old as never);
        return next;
      };
      this.#evAt = grow(this.#evAt, (n) => new Float64Array(n));
      this.#evMeta = grow(this.#evMeta, (n) => new Uint32Array(n));
      this.#evLeft = grow(this.#evLeft, (n) => new Uint16Array(n));
      this.#evProv = grow(this.#evProv, (n) => new Uint32Array(n));
      this.#evOlder = grow(this.#evOlder, (n) => new Int32Array(n));
      this.#evNewer = grow(this.#evNewer, (n) => new Int32Array(n));
      this.#evIdBytes = grow(this.#evIdBytes, (n) => new Uint8Array(n), ID_BYTES);
      this.#evCapacity = capacity;
      // the table keeps one bucket per slot: rebuild it at the new size (amortised over the doublings)
      this.#evNextInBucket = new Int32Array(capacity);
      this.#evBucket = new Int32Array(capacity).fill(-1);
      for (let live = 0; live < slot; live++) {
        if (this.#evRefs[live * 4] !== undefined) this.#evIndex(live, this.#evId(live));
      }
    }
    this.#evRefs.push(undefined, undefined, undefined, undefined);
    return slot;
  }

  #evRelease(slot: number): void {
    this.#evUnindex(slot);
    const r = slot * 4;
    this.#evRefs[r] = undefined;
    this.#evRefs[r + 1] = undefined;
    this.#evRefs[r + 2] = undefined;
    this.#evRefs[r + 3] = undefined;
    this.#evMeta[slot] = 0;
    this.#evProv[slot] = 0;
    this.#evLeft[slot] = 0;
    this.#evIdBytes.fill(0, slot * ID_BYTES, (slot + 1) * ID_BYTES);
    this.#evExtra.delete(slot);
    this.#evFree.push(slot);
  }

  #chAllocate(): number {
    const reused = this.#chFree.pop();
    const chain = reused ?? this.#chHigh++;
    if (chain >= this.#chHead.length) {
      const capacity = Math.max(1024, this.#chHead.length * 2);
      const grow = (old: Int32Array) => {
        const next = new Int32Array(capacity);
        next.set(old);
        return next;
      };
      this.#chHead = grow(this.#chHead);
      this.#chTail = grow(this.#chTail);
      this.#chCount = grow(this.#chCount);
      this.#chDropped = grow(this.#chDropped);
    }
    this.#chHead[chain] = -1;
    this.#chTail[chain] = -1;
    this.#chCount[chain] = 0;
    this.#chDropped[chain] = 0;
    return chain;
  }

  /** Removes the oldest event of a chain (the chain itself stays, possibly empty). */
  #dropOldest(chain: number): void {
    const tail = this.#chTail[chain]!;
    const newer = this.#evNewer[tail]!;
    this.#chTail[chain] = newer;
    if (newer >= 0) this.#evOlder[newer] = -1;
    else this.#chHead[chain] = -1;
    this.#chCount[chain] = this.#chCount[chain]! - 1;
    this.#evRelease(tail);
  }

  /** The bucket of an event id (FNV-1a over its UTF-16 units). */
  #evBucketOf(id: string): number {
    let h = 0x811c9dc5;
    for (let i = 0; i < id.length; i++) h = Math.imul(h ^ id.charCodeAt(i), 0x01000193);
    return (h >>> 0) & (this.#evBucket.length - 1);
  }

  #evIndex(slot: number, id: string): void {
    const b = this.#evBucketOf(id);
    this.#evNextInBucket[slot] = this.#evBucket[b]!;
    this.#evBucket[b] = slot;
  }

  #evUnindex(slot: number): void {
    const b = this.#evBucketOf(this.#evId(slot));
    let at = this.#evBucket[b]!;
    if (at === slot) {
      this.#evBucket[b] = this.#evNextInBucket[slot]!;
      return;
    }
    while (at >= 0) {
      const next = this.#evNextInBucket[at]!;
      if (next === slot) {
        this.#evNextInBucket[at] = this.#evNextInBucket[slot]!;
        return;
      }
      at = next;
    }
  }

  /** The slot of the latest event appended with `id` in `beneficiaryId`'s history, or -1. */
  #evFind(beneficiaryId: string, id: string): number {
    if (this.#evBucket.length === 0) return -1;
    for (let at = this.#evBucket[this.#evBucketOf(id)]!; at >= 0; at = this.#evNextInBucket[at]!) {
      if (this.#evRefs[at * 4] === beneficiaryId && this.#evId(at) === id) return at;
    }
    return -1;
  }

  #evId(slot: number): string {
    if ((this.#evMeta[slot]! >>> 9) & 1) {
      return base64urlEncode(this.#evIdBytes.subarray(slot * ID_BYTES, (slot + 1) * ID_BYTES));
    }
    return this.#evExtra.get(slot)?.id ?? "";
  }

  #evRead(slot: number): TokenEvent {
    const meta = this.#evMeta[slot]!;
    const r = slot * 4;
    const extra = this.#evExtra.get(slot);
    const event: {
      -readonly [K in keyof TokenEvent]: TokenEvent[K];
    } = {
      id: this.#evId(slot),
      type: EVENT_TYPES[meta & 15]!,
      atMs: this.#evAt[slot]!,
      beneficiaryId: this.#evRefs[r]!,
    };
    const guideId = this.#evRefs[r + 1];
    if (guideId !== undefined) event.guideId = guideId;
    const provider = this.#evProv[slot]!;
    if (provider !== 0) event.providerId = this.#providers[provider - 1]!;
    else if (extra?.providerId !== undefined) event.providerId = extra.providerId;
    const tokenId = this.#evRefs[r + 2];
    if (tokenId !== undefined) event.tokenId = tokenId;
    const channel = (meta >>> 4) & 7;
    if (channel !== 0) event.channel = CHANNEL_LIST[channel - 1]!;
    const masked = this.#evRefs[r + 3];
    if (masked !== undefined) event.maskedContact = masked;
    const recipient = (meta >>> 7) & 3;
    if (recipient !== 0) event.recipient = RECIPIENTS[recipient - 1]!;
    const reason = (meta >>> 10) & 0xff;
    if (reason !== 0) event.reason = this.#reasons[reason - 1]!;
    else if (extra?.reason !== undefined) event.reason = extra.reason;
    const left = this.#evLeft[slot]!;
    if (left !== 0) event.attemptsLeft = left - 1;
    if (extra?.delivery !== undefined) Object.assign(event, extra.delivery);
    return event;
  }
}
