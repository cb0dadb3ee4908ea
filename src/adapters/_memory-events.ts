/**
 * The event log of `MemoryTokenStore` (internal): events as columns, one slot per event, in typed arrays where a
 * field has a compact form and in a side map for the rest. Any field of an event is kept, whatever its name:
 * the fields below have a column, and every other field, or a value a column cannot hold exactly (an id that is
 * not 16 base64url characters, an unknown type or channel, a fractional `attemptsLeft` …), goes to the side map
 * as it is. So an event reads back equal to the one appended, field for field.
 *
 * Columns: the ids in the service's format (16 base64url characters) as 12 bytes (`id`, `deliveryId`); the
 * time; the type, channel, recipient, delivery mode and an interned reason packed in one 32-bit word; the
 * provider as an interned index; `attemptsLeft`; one number among `deadlineAtMs`, `durationMs` and
 * `providerFailures` (the delivery events and a `wrong_provider` rejection carry one each); the beneficiary,
 * guide, token and masked contact as references (shared with the caller's strings).
 *
 * Each beneficiary has a doubly linked chain of slots sorted by (atMs, insertion), newest at the head, and a
 * hash table from event id to slot lets `before` jump to its cursor.
 *
 * @module
 */
import { base64urlDecodeInto, base64urlEncode } from "../_internal/ids.js";
import type { TokenEvent, TokenEventType } from "../ports/events.js";
import type { ListEventsOptions } from "../ports/store.js";
import type { Interner } from "./_memory-intern.js";
import type { Pacer } from "./_memory-pacer.js";

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
const TYPE_INDEX = new Map<unknown, number>(EVENT_TYPES.map((t, i) => [t, i]));
const CHANNELS = ["app", "sms", "whatsapp", "email"] as const;
const CHANNEL_INDEX = new Map<unknown, number>(CHANNELS.map((c, i) => [c, i]));
const RECIPIENTS = ["beneficiary", "guardian"] as const;
const MODES = ["foreground", "background"] as const;
/** The numeric fields the number column may hold, by tag (1-based). */
const NUMBER_FIELDS = ["deadlineAtMs", "durationMs", "providerFailures"] as const;

const ID_BYTES = 12;

// meta: type+1 (4 bits) | channel+1 (3) | recipient+1 (2) | compact id (1) | reason+1 (8) | number tag (2)
//       | mode+1 (2) | compact deliveryId (1) | compact tokenId (1). 0 in a field: absent (or in the side map).
const M_CHANNEL = 4;
const M_RECIPIENT = 7;
const M_ID = 1 << 9;
const M_REASON = 10;
const M_NUMBER = 18;
const M_MODE = 20;
const M_DELIVERY = 1 << 22;
const M_TOKEN = 1 << 23;

/** `extra` with `key` set to `value` (made when there was none). */
function aside(
  extra: Record<string, unknown> | undefined,
  key: string,
  value: unknown,
): Record<string, unknown> {
  const out = extra ?? {};
  out[key] = value;
  return out;
}

type MutableEvent = { -readonly [K in keyof TokenEvent]: TokenEvent[K] };

/** The per-beneficiary event chains of a memory store. */
export class MemoryEventLog {
  readonly #maxEvents: number;
  readonly #providers: Interner;
  readonly #reasons: Interner;

  #capacity = 0;
  #high = 0;
  #refs: unknown[] = []; // [beneficiaryId, guideId] per slot
  #idBytes = new Uint8Array(0);
  #tokenBytes = new Uint8Array(0);
  #at = new Float64Array(0);
  #meta = new Uint32Array(0);
  #prov = new Uint32Array(0); // provider index + 1, 0 when absent
  // The fields most events lack, in a record of their own: per slot its index + 1 (0: none).
  #aux = new Int32Array(0);
  #auxCapacity = 0;
  #auxHigh = 0;
  #auxFree: number[] = [];
  #auxDelivery = new Uint8Array(0);
  #auxNumber = new Float64Array(0);
  #auxLeft = new Uint16Array(0); // attemptsLeft + 1, 0 when absent
  #auxMasked: unknown[] = [];
  #older = new Int32Array(0);
  #newer = new Int32Array(0);
  /** Every field without a column, or whose value its column cannot hold exactly. */
  #extra = new Map<number, Record<string, unknown>>();
  #free: number[] = [];
  // Event id → slot: bucket heads (a power of two, at least half the events held; rebuilt when it doubles), and
  // per slot the next slot of its bucket (the newest append first). A compact id hashes by its 12 bytes.
  #bucket = new Int32Array(0);
  #nextInBucket = new Int32Array(0);
  #held = 0;
  #scratch = new Uint8Array(ID_BYTES);
  // Chains: beneficiaryId → chain index; head (newest), tail (oldest), count per chain.
  #chainOf = new Map<unknown, number>();
  #head = new Int32Array(0);
  #tail = new Int32Array(0);
  #count = new Int32Array(0);
  #dropped = new Int32Array(0); // events the cap dropped from the chain
  #chainFree: number[] = [];
  #chainHigh = 0;

  /**
   * @param maxEvents - the per-beneficiary cap
   * @param providers - the provider ids, shared with the tokens
   * @param reasons - the rejection and revocation reasons
   */
  constructor(maxEvents: number, providers: Interner, reasons: Interner) {
    this.#maxEvents = maxEvents;
    this.#providers = providers;
    this.#reasons = reasons;
  }

  /** How many of a beneficiary's events the cap dropped. */
  truncated(beneficiaryId: string): number {
    const chain = this.#chainOf.get(beneficiaryId);
    return chain === undefined ? 0 : this.#dropped[chain]!;
  }

  /** Appends one event (synchronous). */
  append(event: TokenEvent): void {
    const slot = this.#allocate();
    const r = slot * 2;
    let meta = 0;
    let aux = -1;
    let extra: Record<string, unknown> | undefined;
    let at = Number.NaN;
    for (const key in event) {
      const value = (event as unknown as Record<string, unknown>)[key];
      if (value === undefined) continue;
      switch (key) {
        case "id":
          if (
            typeof value === "string" &&
            value.length === 16 &&
            base64urlDecodeInto(value, this.#idBytes, slot * ID_BYTES, ID_BYTES)
          ) {
            meta |= M_ID;
          } else extra = aside(extra, "id", value);
          continue;
        case "type": {
          const type = TYPE_INDEX.get(value);
          if (type !== undefined) meta |= type + 1;
          else extra = aside(extra, "type", value);
          continue;
        }
        case "atMs":
          if (typeof value === "number") at = value;
          else extra = aside(extra, "atMs", value);
          continue;
        case "beneficiaryId":
          this.#refs[r] = value;
          continue;
        case "guideId":
          this.#refs[r + 1] = value;
          continue;
        case "tokenId":
          if (
            typeof value === "string" &&
            value.length === 16 &&
            base64urlDecodeInto(value, this.#tokenBytes, slot * ID_BYTES, ID_BYTES)
          ) {
            meta |= M_TOKEN;
          } else extra = aside(extra, "tokenId", value);
          continue;
        case "maskedContact":
          if (aux < 0) aux = this.#auxAllocate();
          this.#auxMasked[aux] = value;
          continue;
        case "providerId": {
          const index = typeof value === "string" ? this.#providers.slot(value) : -1;
          if (index >= 0) this.#prov[slot] = index + 1;
          else extra = aside(extra, "providerId", value);
          continue;
        }
        case "channel": {
          const channel = CHANNEL_INDEX.get(value);
          if (channel !== undefined) meta |= (channel + 1) << M_CHANNEL;
          else extra = aside(extra, "channel", value);
          continue;
        }
        case "recipient":
          if (value === "beneficiary") meta |= 1 << M_RECIPIENT;
          else if (value === "guardian") meta |= 2 << M_RECIPIENT;
          else extra = aside(extra, "recipient", value);
          continue;
        case "reason": {
          const index = typeof value === "string" ? this.#reasons.slot(value) : -1;
          if (index >= 0) meta |= (index + 1) << M_REASON;
          else extra = aside(extra, "reason", value);
          continue;
        }
        case "attemptsLeft":
          if (Number.isInteger(value) && (value as number) >= 0 && (value as number) < 0xffff) {
            if (aux < 0) aux = this.#auxAllocate();
            this.#auxLeft[aux] = (value as number) + 1;
          } else extra = aside(extra, "attemptsLeft", value);
          continue;
        case "deadlineAtMs":
        case "durationMs":
        case "providerFailures":
          if (typeof value === "number" && (meta >>> M_NUMBER) % 4 === 0) {
            if (aux < 0) aux = this.#auxAllocate();
            this.#auxNumber[aux] = value;
            meta |= (NUMBER_FIELDS.indexOf(key) + 1) << M_NUMBER;
          } else extra = aside(extra, key, value);
          continue;
        case "mode":
          if (value === "foreground") meta |= 1 << M_MODE;
          else if (value === "background") meta |= 2 << M_MODE;
          else extra = aside(extra, "mode", value);
          continue;
        case "deliveryId":
          if (typeof value === "string" && value.length === 16 && aux < 0) aux = this.#auxAllocate();
          if (
            typeof value === "string" &&
            value.length === 16 &&
            base64urlDecodeInto(value, this.#auxDelivery, aux * ID_BYTES, ID_BYTES)
          ) {
            meta |= M_DELIVERY;
          } else extra = aside(extra, "deliveryId", value);
          continue;
        default:
          extra = aside(extra, key, value);
      }
    }
    this.#at[slot] = at;
    this.#meta[slot] = meta;
    this.#aux[slot] = aux + 1;
    if (extra !== undefined) this.#extra.set(slot, extra);
    this.#link(slot, event.beneficiaryId, at);
    this.#index(slot);
  }

  /** A page of a beneficiary's events, newest first. */
  list(beneficiaryId: string, options: ListEventsOptions): TokenEvent[] {
    const chain = this.#chainOf.get(beneficiaryId);
    if (chain === undefined) return [];
    const limit = Math.min(1000, Math.max(1, Math.floor(options.limit) || 1));
    let slot = this.#head[chain]!;
    if (options.before !== undefined) {
      slot = this.#find(beneficiaryId, options.before);
      if (slot < 0) return [];
      slot = this.#older[slot]!;
    }
    const out: TokenEvent[] = [];
    for (; slot >= 0 && out.length < limit; slot = this.#older[slot]!) out.push(this.#read(slot));
    return out;
  }

  /** Removes the events older than `horizon`, yielding when `pacer` says; returns how many. */
  async purge(horizon: number, pacer: Pacer): Promise<number> {
    let events = 0;
    for (const [beneficiaryId, chain] of this.#chainOf) {
      const due = pacer.due();
      if (due !== undefined) await due;
      if (this.#chainOf.get(beneficiaryId) !== chain) continue;
      while (this.#count[chain]! > 0 && this.#at[this.#tail[chain]!]! < horizon) {
        this.#dropOldest(chain);
        events++;
        const due = pacer.due();
        if (due !== undefined) await due;
        if (this.#chainOf.get(beneficiaryId) !== chain) break;
      }
      if (this.#chainOf.get(beneficiaryId) === chain && this.#count[chain] === 0) {
        this.#chainOf.delete(beneficiaryId);
        this.#chainFree.push(chain);
      }
    }
    return events;
  }

  /** Every string and id byte array of the log (the store's `debugSnapshot`). */
  snapshot(strings: string[], bytes: Uint8Array[]): void {
    for (const chain of this.#chainOf.values()) {
      for (let slot = this.#head[chain]!; slot >= 0; slot = this.#older[slot]!) {
        strings.push(...Object.values(this.#read(slot)).map(String));
        bytes.push(this.#idBytes.slice(slot * ID_BYTES, (slot + 1) * ID_BYTES));
        bytes.push(this.#tokenBytes.slice(slot * ID_BYTES, (slot + 1) * ID_BYTES));
        const aux = this.#aux[slot]! - 1;
        if (aux >= 0) bytes.push(this.#auxDelivery.slice(aux * ID_BYTES, (aux + 1) * ID_BYTES));
      }
    }
  }

  // ---------------------------------------------------------------- internals

  #allocate(): number {
    this.#held++;
    if (this.#held > this.#bucket.length * 2) this.#rehash(Math.max(1024, this.#bucket.length * 2));
    const reused = this.#free.pop();
    if (reused !== undefined) return reused;
    const slot = this.#high++;
    // Grown by half (not doubled): a million events leave at most a third of a million slots unused.
    if (slot >= this.#capacity) this.#grow(Math.max(1024, Math.ceil(this.#capacity * 1.5)));
    this.#refs.push(undefined, undefined);
    return slot;
  }

  /** A free aux record (zeroed). */
  #auxAllocate(): number {
    const reused = this.#auxFree.pop();
    if (reused !== undefined) return reused;
    const aux = this.#auxHigh++;
    if (aux >= this.#auxCapacity) {
      const capacity = Math.max(1024, Math.ceil(this.#auxCapacity * 1.5));
      const delivery = new Uint8Array(capacity * ID_BYTES);
      delivery.set(this.#auxDelivery);
      this.#auxDelivery = delivery;
      const number = new Float64Array(capacity);
      number.set(this.#auxNumber);
      this.#auxNumber = number;
      const left = new Uint16Array(capacity);
      left.set(this.#auxLeft);
      this.#auxLeft = left;
      this.#auxCapacity = capacity;
    }
    this.#auxMasked.push(undefined);
    return aux;
  }

  #auxRelease(aux: number): void {
    this.#auxDelivery.fill(0, aux * ID_BYTES, (aux + 1) * ID_BYTES);
    this.#auxNumber[aux] = 0;
    this.#auxLeft[aux] = 0;
    this.#auxMasked[aux] = undefined;
    this.#auxFree.push(aux);
  }

  #grow(capacity: number): void {
    const grow = <T extends Float64Array | Uint32Array | Uint16Array | Int32Array | Uint8Array>(
      old: T,
      make: (n: number) => T,
      per = 1,
    ): T => {
      const next = make(capacity * per);
      next.set(old as never);
      return next;
    };
    this.#at = grow(this.#at, (n) => new Float64Array(n));
    this.#meta = grow(this.#meta, (n) => new Uint32Array(n));
    this.#aux = grow(this.#aux, (n) => new Int32Array(n));
    this.#prov = grow(this.#prov, (n) => new Uint32Array(n));
    this.#older = grow(this.#older, (n) => new Int32Array(n));
    this.#newer = grow(this.#newer, (n) => new Int32Array(n));
    this.#idBytes = grow(this.#idBytes, (n) => new Uint8Array(n), ID_BYTES);
    this.#tokenBytes = grow(this.#tokenBytes, (n) => new Uint8Array(n), ID_BYTES);
    this.#nextInBucket = grow(this.#nextInBucket, (n) => new Int32Array(n));
    this.#capacity = capacity;
  }

  /** Rebuilds the id table with `buckets` buckets (the slots already allocated; the new one is indexed later). */
  #rehash(buckets: number): void {
    this.#bucket = new Int32Array(buckets).fill(-1);
    for (let slot = 0; slot < this.#high; slot++) {
      if (this.#refs[slot * 2] !== undefined) this.#index(slot);
    }
  }

  /** Links a new slot into its beneficiary's chain, at its place by time, and applies the cap. */
  #link(slot: number, beneficiaryId: string, at: number): void {
    let chain = this.#chainOf.get(beneficiaryId);
    if (chain === undefined) {
      chain = this.#chainAllocate();
      this.#chainOf.set(beneficiaryId, chain);
    }
    const head = this.#head[chain]!;
    if (head < 0) {
      this.#older[slot] = -1;
      this.#newer[slot] = -1;
      this.#head[chain] = slot;
      this.#tail[chain] = slot;
    } else {
      // Find the newest event at or before `at` (ties keep insertion order); usually the head itself.
      let after = head;
      while (after >= 0 && this.#at[after]! > at) after = this.#older[after]!;
      if (after === head) {
        this.#older[slot] = head;
        this.#newer[slot] = -1;
        this.#newer[head] = slot;
        this.#head[chain] = slot;
      } else if (after < 0) {
        const tail = this.#tail[chain]!;
        this.#older[slot] = -1;
        this.#newer[slot] = tail;
        this.#older[tail] = slot;
        this.#tail[chain] = slot;
      } else {
        const newer = this.#newer[after]!;
        this.#older[slot] = after;
        this.#newer[slot] = newer;
        this.#newer[after] = slot;
        this.#older[newer] = slot;
      }
    }
    this.#count[chain] = this.#count[chain]! + 1;
    while (this.#count[chain]! > this.#maxEvents) {
      this.#dropOldest(chain);
      this.#dropped[chain] = this.#dropped[chain]! + 1;
    }
  }

  #release(slot: number): void {
    this.#unindex(slot);
    const r = slot * 2;
    this.#refs[r] = undefined;
    this.#refs[r + 1] = undefined;
    this.#meta[slot] = 0;
    this.#prov[slot] = 0;
    const aux = this.#aux[slot]! - 1;
    if (aux >= 0) this.#auxRelease(aux);
    this.#aux[slot] = 0;
    this.#idBytes.fill(0, slot * ID_BYTES, (slot + 1) * ID_BYTES);
    this.#tokenBytes.fill(0, slot * ID_BYTES, (slot + 1) * ID_BYTES);
    this.#extra.delete(slot);
    this.#free.push(slot);
    this.#held--;
  }

  #chainAllocate(): number {
    const reused = this.#chainFree.pop();
    const chain = reused ?? this.#chainHigh++;
    if (chain >= this.#head.length) {
      const capacity = Math.max(1024, this.#head.length * 2);
      const grow = (old: Int32Array) => {
        const next = new Int32Array(capacity);
        next.set(old);
        return next;
      };
      this.#head = grow(this.#head);
      this.#tail = grow(this.#tail);
      this.#count = grow(this.#count);
      this.#dropped = grow(this.#dropped);
    }
    this.#head[chain] = -1;
    this.#tail[chain] = -1;
    this.#count[chain] = 0;
    this.#dropped[chain] = 0;
    return chain;
  }

  /** Removes the oldest event of a chain (the chain itself stays, possibly empty). */
  #dropOldest(chain: number): void {
    const tail = this.#tail[chain]!;
    const newer = this.#newer[tail]!;
    this.#tail[chain] = newer;
    if (newer >= 0) this.#older[newer] = -1;
    else this.#head[chain] = -1;
    this.#count[chain] = this.#count[chain]! - 1;
    this.#release(tail);
  }

  /** The bucket of a slot's id: FNV-1a over its 12 bytes when compact, else over the UTF-16 units of its text. */
  #bucketOfSlot(slot: number): number {
    if (this.#meta[slot]! & M_ID) return this.#bucketOfBytes(this.#idBytes, slot * ID_BYTES);
    return this.#bucketOfText(this.#extra.get(slot)?.id);
  }

  /** The bucket of an id as `listEvents` receives it (the same as its event's, compact or not). */
  #bucketOfId(id: string): number {
    if (id.length === 16 && base64urlDecodeInto(id, this.#scratch, 0, ID_BYTES)) {
      return this.#bucketOfBytes(this.#scratch, 0);
    }
    return this.#bucketOfText(id);
  }

  #bucketOfBytes(bytes: Uint8Array, offset: number): number {
    let h = 0x811c9dc5;
    for (let i = offset; i < offset + ID_BYTES; i++) h = Math.imul(h ^ bytes[i]!, 0x01000193);
    return (h >>> 0) & (this.#bucket.length - 1);
  }

  #bucketOfText(id: unknown): number {
    const text = typeof id === "string" ? id : String(id);
    let h = 0x811c9dc5;
    for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
    return (h >>> 0) & (this.#bucket.length - 1);
  }

  #index(slot: number): void {
    const b = this.#bucketOfSlot(slot);
    this.#nextInBucket[slot] = this.#bucket[b]!;
    this.#bucket[b] = slot;
  }

  #unindex(slot: number): void {
    const b = this.#bucketOfSlot(slot);
    let at = this.#bucket[b]!;
    if (at === slot) {
      this.#bucket[b] = this.#nextInBucket[slot]!;
      return;
    }
    while (at >= 0) {
      const next = this.#nextInBucket[at]!;
      if (next === slot) {
        this.#nextInBucket[at] = this.#nextInBucket[slot]!;
        return;
      }
      at = next;
    }
  }

  /** The slot of the latest event appended with `id` in `beneficiaryId`'s history, or -1. */
  #find(beneficiaryId: string, id: string): number {
    if (this.#bucket.length === 0) return -1;
    for (let at = this.#bucket[this.#bucketOfId(id)]!; at >= 0; at = this.#nextInBucket[at]!) {
      if (this.#refs[at * 2] === beneficiaryId && this.#id(at) === id) return at;
    }
    return -1;
  }

  #id(slot: number): unknown {
    if (this.#meta[slot]! & M_ID) {
      return base64urlEncode(this.#idBytes.subarray(slot * ID_BYTES, (slot + 1) * ID_BYTES));
    }
    return this.#extra.get(slot)?.id;
  }

  #read(slot: number): TokenEvent {
    const meta = this.#meta[slot]!;
    const r = slot * 2;
    const event = {} as MutableEvent;
    if (meta & M_ID)
      event.id = base64urlEncode(this.#idBytes.subarray(slot * ID_BYTES, (slot + 1) * ID_BYTES));
    const type = meta & 15;
    if (type !== 0) event.type = EVENT_TYPES[type - 1]!;
    const at = this.#at[slot]!;
    if (!Number.isNaN(at)) event.atMs = at;
    const refs = this.#refs;
    if (refs[r] !== undefined) event.beneficiaryId = refs[r] as string;
    if (refs[r + 1] !== undefined) event.guideId = refs[r + 1] as string;
    const provider = this.#prov[slot]!;
    if (provider !== 0) event.providerId = this.#providers.values[provider - 1]!;
    if (meta & M_TOKEN) {
      event.tokenId = base64urlEncode(this.#tokenBytes.subarray(slot * ID_BYTES, (slot + 1) * ID_BYTES));
    }
    const channel = (meta >>> M_CHANNEL) & 7;
    if (channel !== 0) event.channel = CHANNELS[channel - 1]!;
    const aux = this.#aux[slot]! - 1;
    if (aux >= 0 && this.#auxMasked[aux] !== undefined) event.maskedContact = this.#auxMasked[aux] as string;
    const recipient = (meta >>> M_RECIPIENT) & 3;
    if (recipient !== 0) event.recipient = RECIPIENTS[recipient - 1]!;
    const reason = (meta >>> M_REASON) & 0xff;
    if (reason !== 0) event.reason = this.#reasons.values[reason - 1]!;
    if (aux >= 0) {
      const left = this.#auxLeft[aux]!;
      if (left !== 0) event.attemptsLeft = left - 1;
      if (meta & M_DELIVERY) {
        event.deliveryId = base64urlEncode(this.#auxDelivery.subarray(aux * ID_BYTES, (aux + 1) * ID_BYTES));
      }
    }
    const mode = (meta >>> M_MODE) & 3;
    if (mode !== 0) event.mode = MODES[mode - 1]!;
    const tag = (meta >>> M_NUMBER) & 3;
    if (tag !== 0) (event as Record<string, unknown>)[NUMBER_FIELDS[tag - 1]!] = this.#auxNumber[aux]!;
    const extra = this.#extra.get(slot);
    if (extra !== undefined) Object.assign(event, extra);
    return event;
  }
}
