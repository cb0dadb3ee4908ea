/**
 * The event log of `MemoryTokenStore` (internal): each event a variable-length byte record in a chunked arena
 * (`ByteArena`), the fields it shares with the events next to it in its beneficiary's history in a group record.
 * Any field of an event is kept, whatever its name: the fields below have a compact form, and every other field,
 * or a value no compact form holds exactly (an id that is not 16 base64url characters, an unknown type or
 * channel, a fractional `attemptsLeft`, a very long masked contact …), goes to a side map as it is. So an event
 * reads back equal to the one appended, field for field.
 *
 * A group (columns, one per run of a beneficiary's events of one token): the guide id (an entry of the id table
 * shared with the store's tokens, `_memory-keys.ts`; a guide id that is not a string goes aside), the provider (an interned index), the token id as 12 bytes, the first delivery id as 12
 * bytes, a base time, and how many events use it. An event joins the group of its history's newest event when
 * its guide, provider and token are those of the group, else it starts one.
 *
 * A record (4-byte aligned): its older and newer neighbours in its history, the next record of its id's hash
 * bucket, its group (4 × 32 bits); its size, type, one byte of channel/recipient/mode/id flags, one of the forms of
 * atMs, the delivery id, the masked contact, attemptsLeft and the reason, one of the forms of the three numbers,
 * the interned reason (6 bytes); then, each only when present: the event id (12 bytes), atMs (none when it is
 * the group's base time, else a zigzag varint from it, else a double), the delivery id when not the group's (12
 * bytes), attemptsLeft (varint), deadlineAtMs (a zigzag varint from atMs, else a double), durationMs and
 * providerFailures (zigzag varints, else doubles), the masked contact (a varint length, then one byte per UTF-16
 * unit when all are below 256, else two).
 *
 * Each beneficiary has a doubly linked chain of records sorted by (atMs, insertion), newest at the head, and a
 * hash table from event id to record lets `before` jump to its cursor.
 *
 * @module
 */
import { base64urlDecodeInto, base64urlEncode } from "../_internal/ids.js";
import type { Mutable } from "../_internal/mutable.js";
import type { TokenEvent, TokenEventType } from "../ports/events.js";
import type { ListEventsOptions } from "../ports/store.js";
import { ByteArena, REF_MASK, REF_SHIFT } from "./_memory-arena.js";
import { grown } from "./_memory-columns.js";
import type { Interner } from "./_memory-intern.js";
import type { KeyTable } from "./_memory-keys.js";
import type { Pacer } from "./_memory-pacer.js";
import {
  ByteReader,
  fitsVarint,
  NUM_DOUBLE,
  NUM_VARINT,
  numberLength,
  VARINT_LIMIT,
  varintLength,
  writeNumber,
  writeVarint,
  zigzag,
} from "./_memory-varint.js";

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

const ID_BYTES = 12;
/** The longest masked contact kept in the record (longer ones go to the side map). */
const MAX_MASKED = 240;

// Record: 32-bit words
const W_OLDER = 0;
const W_NEWER = 1;
const W_NEXT = 2;
const W_GROUP = 3;
// Record: bytes
const B_UNITS = 16;
const B_TYPE = 17; // type + 1
const B_A = 18; // channel + 1 (3 bits) | recipient + 1 (2) << 3 | mode + 1 (2) << 5 | compact id << 7
const B_B = 19; // atMs form (2) | deliveryId form (2) << 2 | masked form (2) << 4 | attemptsLeft << 6 | reason << 7
const B_C = 20; // deadlineAtMs form (2) | durationMs form (2) << 2 | providerFailures form (2) << 4
const B_REASON = 21; // reason index (when flagged)
const HEADER = 22;

// atMs forms
const AT_BASE = 1;
const AT_VARINT = 2;
const AT_DOUBLE = 3;
// deliveryId forms
const DEL_GROUP = 1;
const DEL_INLINE = 2;
// masked contact forms
const MASK_LATIN1 = 1;
const MASK_UTF16 = 2;

// group flags
const G_TOKEN = 1;
const G_DELIVERY = 2;

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

/** Copies 12 id bytes (a loop: cheaper than `set` for so few). */
function copyId(from: Uint8Array, to: Uint8Array, offset: number): void {
  for (let i = 0; i < ID_BYTES; i++) to[offset + i] = from[i]!;
}

/** The reference deadlineAtMs is kept against: the event's atMs when it is a safe integer, else 0. */
function deadlineRef(at: number | undefined): number {
  return at !== undefined && Number.isSafeInteger(at) ? at : 0;
}

type MutableEvent = Mutable<TokenEvent>;

/** The per-beneficiary event chains of a memory store. */
export class MemoryEventLog {
  readonly #maxEvents: number;
  readonly #providers: Interner;
  readonly #reasons: Interner;
  readonly #arena = new ByteArena();
  /** Every field without a compact form, or whose value its form cannot hold exactly, by record. */
  #extra = new Map<number, Record<string, unknown>>();
  #held = 0;
  // Event id → record: bucket heads (a power of two, at least half the events held; rebuilt when it doubles);
  // each record holds the next of its bucket (the newest append first). A compact id hashes by its 12 bytes.
  #bucket = new Int32Array(0);
  #scratch = new Uint8Array(ID_BYTES);
  #scratchToken = new Uint8Array(ID_BYTES);
  #scratchDelivery = new Uint8Array(ID_BYTES);
  readonly #reader = new ByteReader();

  // Groups: columns by group index.
  #gCapacity = 0;
  #gHigh = 0;
  #gFree = -1; // the first free group; a free group's users column holds the next one + 1 (0 ends)
  #gGuide = new Int32Array(0); // the guide's entry + 1, 0 when absent
  #gChain = new Int32Array(0);
  #gProvider = new Int32Array(0); // provider index + 1, 0 when absent
  #gFlags = new Uint8Array(0);
  #gToken = new Uint8Array(0);
  #gDelivery = new Uint8Array(0);
  #gBase = new Float64Array(0);
  #gUsers = new Int32Array(0);

  // Chains: one per beneficiary, found through its entry in the beneficiary table (its tag: chain + 1); a
  // beneficiaryId that is not a string (rare) through `#oddChainOf`. Per chain: its entry + 1 (-1 when odd, 0
  // when the chain is free); head (newest), tail (oldest), count (refs; 0: none).
  readonly #guides: KeyTable;
  readonly #beneficiaries: KeyTable;
  #oddChainOf = new Map<unknown, number>();
  #oddKey = new Map<number, unknown>();
  #chainKey = new Int32Array(0);
  #head = new Int32Array(0);
  #tail = new Int32Array(0);
  #count = new Int32Array(0);
  // Events the cap dropped, by chain: only chains that reached the cap have an entry.
  readonly #dropped = new Map<number, number>();
  #chainFree = -1; // the first free chain; a free chain's count column holds the next one + 1 (0 ends)
  #chainHigh = 0;

  /**
   * @param maxEvents - the per-beneficiary cap
   * @param providers - the provider ids, shared with the tokens
   * @param reasons - the rejection and revocation reasons
   * @param guides - the guide ids, shared with the tokens
   * @param beneficiaries - the beneficiary ids, shared with the tokens
   */
  constructor(
    maxEvents: number,
    providers: Interner,
    reasons: Interner,
    guides: KeyTable,
    beneficiaries: KeyTable,
  ) {
    this.#maxEvents = maxEvents;
    this.#providers = providers;
    this.#reasons = reasons;
    this.#guides = guides;
    this.#beneficiaries = beneficiaries;
  }

  /** How many of a beneficiary's events the cap dropped. */
  truncated(beneficiaryId: string): number {
    const chain = this.#chainOf(beneficiaryId);
    return chain < 0 ? 0 : (this.#dropped.get(chain) ?? 0);
  }

  /** Appends one event (synchronous). */
  append(event: TokenEvent): void {
    let extra: Record<string, unknown> | undefined;
    let type = 0;
    let a = 0;
    let b = 0;
    let c = 0;
    let reason = 0;
    let hasToken = false;
    let hasDelivery = false;
    let at: number | undefined;
    let guide: string | undefined;
    let provider = 0;
    let left = -1;
    let deadline = 0;
    let duration = 0;
    let failures = 0;
    let masked = "";
    let beneficiary: unknown;
    const scratch = this.#scratch;
    for (const key in event) {
      const value = (event as unknown as Record<string, unknown>)[key];
      if (value === undefined) continue;
      switch (key) {
        case "id":
          if (typeof value === "string" && value.length === 16 && base64urlDecodeInto(value, scratch)) {
            a |= 0x80;
          } else extra = aside(extra, "id", value);
          continue;
        case "type": {
          const index = TYPE_INDEX.get(value);
          if (index !== undefined) type = index + 1;
          else extra = aside(extra, "type", value);
          continue;
        }
        case "atMs":
          if (typeof value === "number") at = value;
          else extra = aside(extra, "atMs", value);
          continue;
        case "beneficiaryId":
          beneficiary = value;
          continue;
        case "guideId":
          if (typeof value === "string") guide = value;
          else extra = aside(extra, "guideId", value);
          continue;
        case "tokenId":
          if (
            typeof value === "string" &&
            value.length === 16 &&
            base64urlDecodeInto(value, this.#scratchToken)
          ) {
            hasToken = true;
          } else extra = aside(extra, "tokenId", value);
          continue;
        case "providerId": {
          const index = typeof value === "string" ? this.#providers.slot(value) : -1;
          if (index >= 0) provider = index + 1;
          else extra = aside(extra, "providerId", value);
          continue;
        }
        case "channel": {
          const channel = CHANNEL_INDEX.get(value);
          if (channel !== undefined) a |= channel + 1;
          else extra = aside(extra, "channel", value);
          continue;
        }
        case "recipient":
          if (value === "beneficiary") a |= 1 << 3;
          else if (value === "guardian") a |= 2 << 3;
          else extra = aside(extra, "recipient", value);
          continue;
        case "mode":
          if (value === "foreground") a |= 1 << 5;
          else if (value === "background") a |= 2 << 5;
          else extra = aside(extra, "mode", value);
          continue;
        case "reason": {
          const index = typeof value === "string" ? this.#reasons.slot(value) : -1;
          if (index >= 0) {
            reason = index;
            b |= 0x80;
          } else extra = aside(extra, "reason", value);
          continue;
        }
        case "attemptsLeft":
          if (
            Number.isInteger(value) &&
            (value as number) >= 0 &&
            (value as number) <= VARINT_LIMIT &&
            !Object.is(value, -0)
          ) {
            left = value as number;
            b |= 0x40;
          } else extra = aside(extra, "attemptsLeft", value);
          continue;
        case "deadlineAtMs":
          if (typeof value === "number") {
            deadline = value;
            c |= 3; // resolved below, once atMs is known
          } else extra = aside(extra, key, value);
          continue;
        case "durationMs":
          if (typeof value === "number") {
            duration = value;
            c |= fitsVarint(value, 0) ? NUM_VARINT << 2 : NUM_DOUBLE << 2;
          } else extra = aside(extra, key, value);
          continue;
        case "providerFailures":
          if (typeof value === "number") {
            failures = value;
            c |= fitsVarint(value, 0) ? NUM_VARINT << 4 : NUM_DOUBLE << 4;
          } else extra = aside(extra, key, value);
          continue;
        case "maskedContact":
          if (typeof value === "string" && value.length <= MAX_MASKED) {
            masked = value;
            let wide = false;
            for (let i = 0; i < value.length; i++) if (value.charCodeAt(i) > 255) wide = true;
            b |= (wide ? MASK_UTF16 : MASK_LATIN1) << 4;
          } else extra = aside(extra, "maskedContact", value);
          continue;
        case "deliveryId":
          if (
            typeof value === "string" &&
            value.length === 16 &&
            base64urlDecodeInto(value, this.#scratchDelivery)
          ) {
            hasDelivery = true;
          } else extra = aside(extra, "deliveryId", value);
          continue;
        default:
          extra = aside(extra, key, value);
      }
    }
    if ((c & 3) !== 0) {
      c = (c & ~3) | (fitsVarint(deadline, deadlineRef(at)) ? NUM_VARINT : NUM_DOUBLE);
    }

    // The chain, and the group (its newest event's, when the shared fields are the same).
    let chain = this.#chainOf(beneficiary);
    if (chain < 0) chain = this.#chainAllocate(beneficiary);
    const head = this.#head[chain]!;
    let group = head === 0 ? -1 : this.#word(head, W_GROUP);
    if (group >= 0 && !this.#sameGroup(group, guide, provider, hasToken)) group = -1;
    if (group < 0) group = this.#groupAllocate(chain, guide, provider, hasToken, at ?? 0);
    this.#gUsers[group] = this.#gUsers[group]! + 1;
    if (hasDelivery) {
      if ((this.#gFlags[group]! & G_DELIVERY) === 0) {
        copyId(this.#scratchDelivery, this.#gDelivery, group * ID_BYTES);
        this.#gFlags[group] = this.#gFlags[group]! | G_DELIVERY;
        b |= DEL_GROUP << 2;
      } else {
        b |=
          (this.#sameBytes(this.#gDelivery, group * ID_BYTES, this.#scratchDelivery)
            ? DEL_GROUP
            : DEL_INLINE) << 2;
      }
    }
    const base = this.#gBase[group]!;
    let atDelta = 0;
    if (at !== undefined) {
      if (Object.is(at, base)) b |= AT_BASE;
      else if (fitsVarint(at, base)) {
        b |= AT_VARINT;
        atDelta = at - base;
      } else b |= AT_DOUBLE;
    }

    // The size, then the record.
    let size = HEADER + (a & 0x80 ? ID_BYTES : 0);
    const atForm = b & 3;
    if (atForm === AT_VARINT) size += varintLength(zigzag(atDelta));
    else if (atForm === AT_DOUBLE) size += 8;
    if (((b >>> 2) & 3) === DEL_INLINE) size += ID_BYTES;
    if (left >= 0) size += varintLength(left);
    const dRef = deadlineRef(at);
    size += numberLength(c & 3, deadline - dRef);
    size += numberLength((c >>> 2) & 3, duration);
    size += numberLength((c >>> 4) & 3, failures);
    const maskForm = (b >>> 4) & 3;
    if (maskForm !== 0) size += varintLength(masked.length) + masked.length * maskForm;

    this.#held++;
    if (this.#held > this.#bucket.length * 2) this.#rehash(Math.max(1024, this.#bucket.length * 2));
    const arena = this.#arena;
    const ref = arena.allocate((size + 3) >>> 2);
    const u8 = arena.u8[ref >>> REF_SHIFT]!;
    const view = arena.view[ref >>> REF_SHIFT]!;
    const p = (ref & REF_MASK) << 2;
    arena.i32[ref >>> REF_SHIFT]![(p >>> 2) + W_GROUP] = group;
    u8[p + B_UNITS] = arena.allocatedUnits;
    u8[p + B_TYPE] = type;
    u8[p + B_A] = a;
    u8[p + B_B] = b;
    u8[p + B_C] = c;
    u8[p + B_REASON] = reason;
    let q = p + HEADER;
    if (a & 0x80) {
      copyId(scratch, u8, q);
      q += ID_BYTES;
    }
    if (atForm === AT_VARINT) q = writeVarint(u8, q, zigzag(atDelta));
    else if (atForm === AT_DOUBLE) {
      view.setFloat64(q, at!);
      q += 8;
    }
    if (((b >>> 2) & 3) === DEL_INLINE) {
      copyId(this.#scratchDelivery, u8, q);
      q += ID_BYTES;
    }
    if (left >= 0) q = writeVarint(u8, q, left);
    q = writeNumber(u8, view, q, c & 3, deadline - dRef, deadline);
    q = writeNumber(u8, view, q, (c >>> 2) & 3, duration, duration);
    q = writeNumber(u8, view, q, (c >>> 4) & 3, failures, failures);
    if (maskForm !== 0) {
      q = writeVarint(u8, q, masked.length);
      for (let i = 0; i < masked.length; i++) {
        const unit = masked.charCodeAt(i);
        if (maskForm === MASK_LATIN1) u8[q++] = unit;
        else {
          u8[q++] = unit >>> 8;
          u8[q++] = unit & 0xff;
        }
      }
    }
    if (extra !== undefined) this.#extra.set(ref, extra);
    this.#link(ref, chain, at ?? Number.NaN);
    this.#index(ref);
  }

  /** A page of a beneficiary's events, newest first. */
  list(beneficiaryId: string, options: ListEventsOptions): TokenEvent[] {
    const chain = this.#chainOf(beneficiaryId);
    if (chain < 0) return [];
    const limit = Math.min(1000, Math.max(1, Math.floor(options.limit) || 1));
    let ref = this.#head[chain]!;
    if (options.before !== undefined) {
      ref = this.#find(chain, options.before);
      if (ref === 0) return [];
      ref = this.#word(ref, W_OLDER);
    }
    const out: TokenEvent[] = [];
    for (; ref !== 0 && out.length < limit; ref = this.#word(ref, W_OLDER)) out.push(this.#read(ref));
    return out;
  }

  /** Removes the events older than `horizon`, yielding when `pacer` says; returns how many. */
  async purge(horizon: number, pacer: Pacer): Promise<number> {
    let events = 0;
    // Chains by index: one freed and reused while this waits is a chain like any other.
    for (let chain = 0; chain < this.#chainHigh; chain++) {
      const due = pacer.due();
      if (due !== undefined) await due;
      if (this.#chainKey[chain] === 0) continue;
      while (this.#count[chain]! > 0 && this.#atOf(this.#tail[chain]!) < horizon) {
        this.#dropOldest(chain);
        events++;
        const due = pacer.due();
        if (due !== undefined) await due;
      }
      if (this.#chainKey[chain] !== 0 && this.#count[chain] === 0) this.#chainRelease(chain);
    }
    return events;
  }

  /** Every string and byte array of the log (the store's `debugSnapshot`). */
  snapshot(strings: string[], bytes: Uint8Array[]): void {
    for (let chain = 0; chain < this.#chainHigh; chain++) {
      for (let ref = this.#head[chain]!; ref !== 0; ref = this.#word(ref, W_OLDER)) {
        strings.push(...Object.values(this.#read(ref)).map(String));
        bytes.push(this.#arena.bytes(ref, this.#byte(ref, B_UNITS)));
        const group = this.#word(ref, W_GROUP);
        bytes.push(this.#gToken.slice(group * ID_BYTES, (group + 1) * ID_BYTES));
        bytes.push(this.#gDelivery.slice(group * ID_BYTES, (group + 1) * ID_BYTES));
      }
    }
  }

  // ---------------------------------------------------------------- internals: records

  #word(ref: number, word: number): number {
    return this.#arena.i32[ref >>> REF_SHIFT]![(ref & REF_MASK) + word]!;
  }

  #setWord(ref: number, word: number, value: number): void {
    this.#arena.i32[ref >>> REF_SHIFT]![(ref & REF_MASK) + word] = value;
  }

  #byte(ref: number, at: number): number {
    return this.#arena.u8[ref >>> REF_SHIFT]![((ref & REF_MASK) << 2) + at]!;
  }

  /** The atMs a record sorts by (NaN when it has none in its record). */
  #atOf(ref: number): number {
    const u8 = this.#arena.u8[ref >>> REF_SHIFT]!;
    const p = (ref & REF_MASK) << 2;
    const form = u8[p + B_B]! & 3;
    if (form === 0) return Number.NaN;
    const base = this.#gBase[this.#word(ref, W_GROUP)]!;
    if (form === AT_BASE) return base;
    const q = p + HEADER + (u8[p + B_A]! & 0x80 ? ID_BYTES : 0);
    if (form === AT_DOUBLE) return this.#arena.view[ref >>> REF_SHIFT]!.getFloat64(q);
    this.#reader.pos = q;
    return base + this.#reader.zigzag(u8);
  }

  #sameBytes(bytes: Uint8Array, offset: number, other: Uint8Array): boolean {
    for (let i = 0; i < ID_BYTES; i++) if (bytes[offset + i] !== other[i]) return false;
    return true;
  }

  #read(ref: number): TokenEvent {
    const arena = this.#arena;
    const u8 = arena.u8[ref >>> REF_SHIFT]!;
    const view = arena.view[ref >>> REF_SHIFT]!;
    const p = (ref & REF_MASK) << 2;
    const group = this.#word(ref, W_GROUP);
    const type = u8[p + B_TYPE]!;
    const a = u8[p + B_A]!;
    const b = u8[p + B_B]!;
    const c = u8[p + B_C]!;
    const event = {} as MutableEvent;
    let q = p + HEADER;
    if (a & 0x80) {
      event.id = base64urlEncode(u8.subarray(q, q + ID_BYTES));
      q += ID_BYTES;
    }
    if (type !== 0) event.type = EVENT_TYPES[type - 1]!;
    const atForm = b & 3;
    let at: number | undefined;
    if (atForm === AT_BASE) at = this.#gBase[group]!;
    else if (atForm === AT_DOUBLE) {
      at = view.getFloat64(q);
      q += 8;
    } else if (atForm === AT_VARINT) {
      this.#reader.pos = q;
      at = this.#gBase[group]! + this.#reader.zigzag(u8);
      q = this.#reader.pos;
    }
    if (at !== undefined) event.atMs = at;
    const chain = this.#gChain[group]!;
    const key = this.#chainKey[chain]!;
    if (key > 0) event.beneficiaryId = this.#beneficiaries.text(key - 1);
    else if (key < 0) {
      const odd = this.#oddKey.get(chain);
      if (odd !== undefined) event.beneficiaryId = odd as string;
    }
    const guide = this.#gGuide[group]!;
    if (guide !== 0) event.guideId = this.#guides.text(guide - 1);
    const provider = this.#gProvider[group]!;
    if (provider !== 0) event.providerId = this.#providers.values[provider - 1]!;
    if (this.#gFlags[group]! & G_TOKEN) {
      event.tokenId = base64urlEncode(this.#gToken.subarray(group * ID_BYTES, (group + 1) * ID_BYTES));
    }
    const channel = a & 7;
    if (channel !== 0) event.channel = CHANNELS[channel - 1]!;
    const recipient = (a >>> 3) & 3;
    if (recipient !== 0) event.recipient = RECIPIENTS[recipient - 1]!;
    const mode = (a >>> 5) & 3;
    if (mode !== 0) event.mode = MODES[mode - 1]!;
    if (b & 0x80) event.reason = this.#reasons.values[u8[p + B_REASON]!]!;
    const delivery = (b >>> 2) & 3;
    if (delivery === DEL_GROUP) {
      event.deliveryId = base64urlEncode(this.#gDelivery.subarray(group * ID_BYTES, (group + 1) * ID_BYTES));
    } else if (delivery === DEL_INLINE) {
      event.deliveryId = base64urlEncode(u8.subarray(q, q + ID_BYTES));
      q += ID_BYTES;
    }
    this.#reader.pos = q;
    if (b & 0x40) event.attemptsLeft = this.#reader.varint(u8);
    const numbers = event as Record<string, unknown>;
    const deadlineForm = c & 3;
    if (deadlineForm === NUM_VARINT) numbers.deadlineAtMs = deadlineRef(at) + this.#reader.zigzag(u8);
    else if (deadlineForm === NUM_DOUBLE) numbers.deadlineAtMs = this.#reader.double(view);
    const durationForm = (c >>> 2) & 3;
    if (durationForm === NUM_VARINT) numbers.durationMs = this.#reader.zigzag(u8);
    else if (durationForm === NUM_DOUBLE) numbers.durationMs = this.#reader.double(view);
    const failuresForm = (c >>> 4) & 3;
    if (failuresForm === NUM_VARINT) numbers.providerFailures = this.#reader.zigzag(u8);
    else if (failuresForm === NUM_DOUBLE) numbers.providerFailures = this.#reader.double(view);
    const maskForm = (b >>> 4) & 3;
    if (maskForm !== 0) {
      const length = this.#reader.varint(u8);
      q = this.#reader.pos;
      let text = "";
      if (maskForm === MASK_LATIN1) {
        for (let i = 0; i < length; i++) text += String.fromCharCode(u8[q + i]!);
      } else {
        for (let i = 0; i < length; i++)
          text += String.fromCharCode((u8[q + 2 * i]! << 8) | u8[q + 2 * i + 1]!);
      }
      event.maskedContact = text;
    }
    const extra = this.#extra.get(ref);
    if (extra !== undefined) Object.assign(event, extra);
    return event;
  }

  #release(ref: number): void {
    this.#unindex(ref);
    const group = this.#word(ref, W_GROUP);
    const users = this.#gUsers[group]! - 1;
    this.#gUsers[group] = users;
    if (users === 0) this.#groupRelease(group);
    if (this.#extra.size > 0) this.#extra.delete(ref);
    this.#arena.release(ref, this.#byte(ref, B_UNITS));
    this.#held--;
  }

  // ---------------------------------------------------------------- internals: groups

  #sameGroup(group: number, guide: string | undefined, provider: number, hasToken: boolean): boolean {
    if (this.#gProvider[group] !== provider) return false;
    const key = this.#gGuide[group]!;
    if (guide === undefined ? key !== 0 : key === 0 || this.#guides.find(guide) !== key - 1) return false;
    if (((this.#gFlags[group]! & G_TOKEN) !== 0) !== hasToken) return false;
    return !hasToken || this.#sameBytes(this.#gToken, group * ID_BYTES, this.#scratchToken);
  }

  #groupAllocate(
    chain: number,
    guide: string | undefined,
    provider: number,
    hasToken: boolean,
    base: number,
  ): number {
    let group: number = this.#gFree;
    if (group >= 0) this.#gFree = this.#gUsers[group]! - 1;
    else {
      group = this.#gHigh++;
      if (group >= this.#gCapacity) this.#groupGrow(Math.max(1024, Math.ceil(this.#gCapacity * 1.5)));
    }
    this.#gGuide[group] = guide === undefined ? 0 : this.#guides.acquire(guide) + 1;
    this.#gChain[group] = chain;
    this.#gProvider[group] = provider;
    this.#gBase[group] = base;
    this.#gUsers[group] = 0;
    if (hasToken) {
      copyId(this.#scratchToken, this.#gToken, group * ID_BYTES);
      this.#gFlags[group] = G_TOKEN;
    } else this.#gFlags[group] = 0;
    return group;
  }

  #groupRelease(group: number): void {
    const guide = this.#gGuide[group]!;
    if (guide !== 0) this.#guides.release(guide - 1);
    this.#gGuide[group] = 0;
    this.#gFlags[group] = 0;
    this.#gToken.fill(0, group * ID_BYTES, (group + 1) * ID_BYTES);
    this.#gDelivery.fill(0, group * ID_BYTES, (group + 1) * ID_BYTES);
    this.#gUsers[group] = this.#gFree + 1;
    this.#gFree = group;
  }

  #groupGrow(capacity: number): void {
    this.#gGuide = grown(this.#gGuide, new Int32Array(capacity));
    this.#gChain = grown(this.#gChain, new Int32Array(capacity));
    this.#gProvider = grown(this.#gProvider, new Int32Array(capacity));
    this.#gFlags = grown(this.#gFlags, new Uint8Array(capacity));
    this.#gToken = grown(this.#gToken, new Uint8Array(capacity * ID_BYTES));
    this.#gDelivery = grown(this.#gDelivery, new Uint8Array(capacity * ID_BYTES));
    this.#gBase = grown(this.#gBase, new Float64Array(capacity));
    this.#gUsers = grown(this.#gUsers, new Int32Array(capacity));
    this.#gCapacity = capacity;
  }

  // ---------------------------------------------------------------- internals: chains

  /** Links a new record into its beneficiary's chain, at its place by time, and applies the cap. */
  #link(ref: number, chain: number, at: number): void {
    const head = this.#head[chain]!;
    if (head === 0) {
      this.#head[chain] = ref;
      this.#tail[chain] = ref;
    } else {
      // Find the newest event at or before `at` (ties keep insertion order); usually the head itself.
      let after = head;
      while (after !== 0 && this.#atOf(after) > at) after = this.#word(after, W_OLDER);
      if (after === head) {
        this.#setWord(ref, W_OLDER, head);
        this.#setWord(head, W_NEWER, ref);
        this.#head[chain] = ref;
      } else if (after === 0) {
        const tail = this.#tail[chain]!;
        this.#setWord(ref, W_NEWER, tail);
        this.#setWord(tail, W_OLDER, ref);
        this.#tail[chain] = ref;
      } else {
        const newer = this.#word(after, W_NEWER);
        this.#setWord(ref, W_OLDER, after);
        this.#setWord(ref, W_NEWER, newer);
        this.#setWord(after, W_NEWER, ref);
        this.#setWord(newer, W_OLDER, ref);
      }
    }
    this.#count[chain] = this.#count[chain]! + 1;
    while (this.#count[chain]! > this.#maxEvents) {
      this.#dropOldest(chain);
      this.#dropped.set(chain, (this.#dropped.get(chain) ?? 0) + 1);
    }
  }

  /** The chain of a beneficiaryId, or -1. */
  #chainOf(beneficiary: unknown): number {
    if (typeof beneficiary !== "string") return this.#oddChainOf.get(beneficiary) ?? -1;
    const key = this.#beneficiaries.find(beneficiary);
    return key < 0 ? -1 : this.#beneficiaries.tag(key) - 1;
  }

  #chainAllocate(beneficiary: unknown): number {
    let chain = this.#chainFree;
    if (chain >= 0) this.#chainFree = this.#count[chain]! - 1;
    else chain = this.#chainHigh++;
    if (chain >= this.#head.length) {
      const capacity = Math.max(1024, this.#head.length * 2);
      this.#chainKey = grown(this.#chainKey, new Int32Array(capacity));
      this.#head = grown(this.#head, new Int32Array(capacity));
      this.#tail = grown(this.#tail, new Int32Array(capacity));
      this.#count = grown(this.#count, new Int32Array(capacity));
    }
    if (typeof beneficiary === "string") {
      const key = this.#beneficiaries.acquire(beneficiary);
      this.#beneficiaries.setTag(key, chain + 1);
      this.#chainKey[chain] = key + 1;
    } else {
      this.#oddChainOf.set(beneficiary, chain);
      this.#oddKey.set(chain, beneficiary);
      this.#chainKey[chain] = -1;
    }
    this.#head[chain] = 0;
    this.#tail[chain] = 0;
    this.#count[chain] = 0;
    return chain;
  }

  /** Frees an empty chain, and its hold on its beneficiary's entry. */
  #chainRelease(chain: number): void {
    const key = this.#chainKey[chain]!;
    if (key > 0) {
      this.#beneficiaries.setTag(key - 1, 0);
      this.#beneficiaries.release(key - 1);
    } else {
      this.#oddChainOf.delete(this.#oddKey.get(chain));
      this.#oddKey.delete(chain);
    }
    this.#chainKey[chain] = 0;
    this.#dropped.delete(chain);
    this.#count[chain] = this.#chainFree + 1;
    this.#chainFree = chain;
  }

  /** Removes the oldest event of a chain (the chain itself stays, possibly empty). */
  #dropOldest(chain: number): void {
    const tail = this.#tail[chain]!;
    const newer = this.#word(tail, W_NEWER);
    this.#tail[chain] = newer;
    if (newer !== 0) this.#setWord(newer, W_OLDER, 0);
    else this.#head[chain] = 0;
    this.#count[chain] = this.#count[chain]! - 1;
    this.#release(tail);
  }

  // ---------------------------------------------------------------- internals: the id table

  /** Rebuilds the id table with `buckets` buckets (the records already linked; a new one is indexed later). */
  #rehash(buckets: number): void {
    this.#bucket = new Int32Array(buckets);
    for (let chain = 0; chain < this.#chainHigh; chain++) {
      for (let ref = this.#head[chain]!; ref !== 0; ref = this.#word(ref, W_OLDER)) this.#index(ref);
    }
  }

  /** The bucket of a record's id: FNV-1a over its 12 bytes when compact, else over the UTF-16 units of its text. */
  #bucketOfRecord(ref: number): number {
    const u8 = this.#arena.u8[ref >>> REF_SHIFT]!;
    const p = (ref & REF_MASK) << 2;
    if (u8[p + B_A]! & 0x80) return this.#bucketOfBytes(u8, p + HEADER);
    return this.#bucketOfText(this.#extra.get(ref)?.id);
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

  #index(ref: number): void {
    const b = this.#bucketOfRecord(ref);
    this.#setWord(ref, W_NEXT, this.#bucket[b]!);
    this.#bucket[b] = ref;
  }

  #unindex(ref: number): void {
    const b = this.#bucketOfRecord(ref);
    let at = this.#bucket[b]!;
    if (at === ref) {
      this.#bucket[b] = this.#word(ref, W_NEXT);
      return;
    }
    while (at !== 0) {
      const next = this.#word(at, W_NEXT);
      if (next === ref) {
        this.#setWord(at, W_NEXT, this.#word(ref, W_NEXT));
        return;
      }
      at = next;
    }
  }

  /** The record of the latest event appended with `id` in the chain's history, or 0. */
  #find(chain: number, id: string): number {
    if (this.#bucket.length === 0) return 0;
    const compact = id.length === 16 && base64urlDecodeInto(id, this.#scratch);
    const b = compact ? this.#bucketOfBytes(this.#scratch, 0) : this.#bucketOfText(id);
    for (let ref = this.#bucket[b]!; ref !== 0; ref = this.#word(ref, W_NEXT)) {
      if (this.#gChain[this.#word(ref, W_GROUP)] !== chain) continue;
      const u8 = this.#arena.u8[ref >>> REF_SHIFT]!;
      const p = (ref & REF_MASK) << 2;
      if (u8[p + B_A]! & 0x80) {
        if (compact && this.#sameBytes(u8.subarray(p + HEADER, p + HEADER + ID_BYTES), 0, this.#scratch))
          return ref;
      } else if (!compact && this.#extra.get(ref)?.id === id) return ref;
    }
    return 0;
  }
}
