/**
 * A table of id texts of the memory store (internal): guide ids and beneficiary ids, each held once as bytes
 * rather than as a JS string and a `Map` entry (together about 70 bytes an id at a million), with a count of
 * the holders of each and one integer the owner may attach to it (its tag).
 *
 * An id is an entry with a stable index from 0 while it is held. Its text is kept as one byte per UTF-16 unit in
 * a `ByteArena` record when every unit is below 256 and it has 1 to 255 of them; any other text (empty, longer,
 * or with a wider unit) is kept as it is, aside. An open-addressing table (linear probing, at most half full,
 * removal by backward shift, so it never rehashes on removal) finds an entry from its text.
 *
 * @module
 */
import { ByteArena, REF_MASK, REF_SHIFT } from "./_memory-arena.js";
import { grown } from "./_memory-columns.js";

/** The longest text kept as bytes. */
const MAX_BYTES = 255;

/** FNV-1a over the UTF-16 units of a text (the bytes of a byte-kept text are its units). */
function hashText(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

/** Whether a text is kept as bytes. */
function compact(text: string): boolean {
  if (text.length === 0 || text.length > MAX_BYTES) return false;
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) > 255) return false;
  return true;
}

/** Id texts, each held once, counted and tagged. */
export class KeyTable {
  readonly #arena = new ByteArena();
  // Entries, by index: the arena record of the text (0 when kept aside), its length and its record's size in
  // 4-byte units, its holders, its tag.
  #ref = new Int32Array(0);
  #len = new Uint8Array(0);
  #units = new Uint8Array(0);
  #hash = new Int32Array(0); // its text's hash, so moving buckets reads no text
  #uses = new Int32Array(0);
  #tag = new Int32Array(0);
  readonly #aside = new Map<number, string>();
  // Free entries, chained through their tags (a free entry's tag is the next one + 1; 0 ends): no array of
  // a million indices to grow when a purge lets go of a million ids.
  #free = -1;
  #high = 0;
  #size = 0;
  // Buckets: an entry's index + 1, 0 when empty; a power of two, at least twice the entries.
  #bucket = new Int32Array(0);
  // The text last found and its entry: consecutive calls for one id (a token's events) skip the hashing.
  #lastText: string | undefined;
  #lastIndex = -1;

  /** How many ids are held. */
  get size(): number {
    return this.#size;
  }

  /** The entry of `text`, or -1. */
  find(text: string): number {
    if (text === this.#lastText) return this.#lastIndex;
    if (this.#size === 0) return -1;
    const mask = this.#bucket.length - 1;
    const hash = hashText(text) | 0;
    for (let b = hash & mask; ; b = (b + 1) & mask) {
      const index = this.#bucket[b]! - 1;
      if (index < 0) return -1;
      if (this.#hash[index] === hash && this.#equals(index, text)) {
        this.#lastText = text;
        this.#lastIndex = index;
        return index;
      }
    }
  }

  /** Holds `text` once more (added when new); its entry. */
  acquire(text: string): number {
    let index = this.find(text);
    if (index < 0) index = this.#add(text);
    this.#uses[index] = this.#uses[index]! + 1;
    return index;
  }

  /** Lets go of one hold on an entry; the entry goes with its last. */
  release(index: number): void {
    const uses = this.#uses[index]! - 1;
    this.#uses[index] = uses;
    if (uses > 0) return;
    this.#unlink(index);
    const ref = this.#ref[index]!;
    if (ref !== 0) this.#arena.release(ref, this.#units[index]!);
    else this.#aside.delete(index);
    this.#ref[index] = 0;
    this.#len[index] = 0;
    this.#units[index] = 0;
    this.#tag[index] = this.#free + 1;
    this.#free = index;
    this.#size--;
    if (this.#lastIndex === index) {
      this.#lastText = undefined;
      this.#lastIndex = -1;
    }
  }

  /** The text of an entry (the string last found or read when it is that entry's: no decoding). */
  text(index: number): string {
    if (index === this.#lastIndex) return this.#lastText!;
    const ref = this.#ref[index]!;
    if (ref === 0) return this.#aside.get(index)!;
    const p = (ref & REF_MASK) << 2;
    const u8 = this.#arena.u8[ref >>> REF_SHIFT]!;
    const text = String.fromCharCode.apply(
      null,
      u8.subarray(p, p + this.#len[index]!) as unknown as number[],
    );
    this.#lastText = text;
    this.#lastIndex = index;
    return text;
  }

  /** The integer the owner attached to an entry (0 until set). */
  tag(index: number): number {
    return this.#tag[index]!;
  }

  setTag(index: number, tag: number): void {
    this.#tag[index] = tag;
  }

  // ---------------------------------------------------------------- internals

  #equals(index: number, text: string): boolean {
    const ref = this.#ref[index]!;
    if (ref === 0) return this.#aside.get(index) === text;
    const len = this.#len[index]!;
    if (len !== text.length) return false;
    const p = (ref & REF_MASK) << 2;
    const u8 = this.#arena.u8[ref >>> REF_SHIFT]!;
    for (let i = 0; i < len; i++) if (u8[p + i] !== text.charCodeAt(i)) return false;
    return true;
  }

  #add(text: string): number {
    if ((this.#size + 1) * 2 > this.#bucket.length) this.#rehash(Math.max(1024, this.#bucket.length * 2));
    let index = this.#free;
    if (index >= 0) this.#free = this.#tag[index]! - 1;
    else {
      index = this.#high++;
      if (index >= this.#ref.length) this.#grow(Math.max(1024, Math.ceil(this.#ref.length * 1.5)));
    }
    if (compact(text)) {
      const ref = this.#arena.allocate((text.length + 3) >>> 2);
      const p = (ref & REF_MASK) << 2;
      const u8 = this.#arena.u8[ref >>> REF_SHIFT]!;
      for (let i = 0; i < text.length; i++) u8[p + i] = text.charCodeAt(i);
      this.#ref[index] = ref;
      this.#len[index] = text.length;
      this.#units[index] = this.#arena.allocatedUnits;
    } else this.#aside.set(index, text);
    this.#uses[index] = 0;
    this.#tag[index] = 0;
    const hash = hashText(text) | 0;
    this.#hash[index] = hash;
    this.#link(index, hash);
    this.#size++;
    this.#lastText = text;
    this.#lastIndex = index;
    return index;
  }

  #link(index: number, hash: number): void {
    const mask = this.#bucket.length - 1;
    let b = hash & mask;
    while (this.#bucket[b] !== 0) b = (b + 1) & mask;
    this.#bucket[b] = index + 1;
  }

  /** Removes an entry from the buckets, moving back the ones after it that would no longer be found. */
  #unlink(index: number): void {
    const bucket = this.#bucket;
    const mask = bucket.length - 1;
    let hole = this.#hash[index]! & mask;
    while (bucket[hole] !== index + 1) hole = (hole + 1) & mask;
    bucket[hole] = 0;
    for (let b = (hole + 1) & mask; bucket[b] !== 0; b = (b + 1) & mask) {
      const home = this.#hash[bucket[b]! - 1]! & mask;
      // The entry at b stays when its home lies cyclically in (hole, b].
      const stays = hole <= b ? hole < home && home <= b : hole < home || home <= b;
      if (stays) continue;
      bucket[hole] = bucket[b]!;
      bucket[b] = 0;
      hole = b;
    }
  }

  #rehash(buckets: number): void {
    this.#bucket = new Int32Array(buckets);
    for (let index = 0; index < this.#high; index++) {
      if (this.#uses[index]! > 0) this.#link(index, this.#hash[index]!);
    }
  }

  #grow(capacity: number): void {
    this.#ref = grown(this.#ref, new Int32Array(capacity));
    this.#len = grown(this.#len, new Uint8Array(capacity));
    this.#units = grown(this.#units, new Uint8Array(capacity));
    this.#hash = grown(this.#hash, new Int32Array(capacity));
    this.#uses = grown(this.#uses, new Int32Array(capacity));
    this.#tag = grown(this.#tag, new Int32Array(capacity));
  }
}
