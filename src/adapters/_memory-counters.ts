/**
 * The fixed-window counters of `MemoryTokenStore` (internal), as columns rather than one object per key: a
 * counter is a cell (a count in a `Uint32Array`, its window's end in a `Float64Array`) of a slot, and a map
 * from key to slot finds it.
 *
 * A guide's two counters, its resend cooldown (`rl:cd:<guide>`) and its sends (`rl:sg:<guide>`, see
 * `rateLimitKeys`), are not here: they are two cells of the guide's slot in the store's token columns. Every
 * other key has a slot of its own here, keyed by the whole key.
 *
 * `purge` copies the live entries to a fresh map in slices (reading both meanwhile) rather than deleting the
 * rest, for the reason given in `_memory-side.ts`; a slot records its key, so an entry left in the old map for a
 * released slot is recognised and ignored.
 *
 * @module
 */
import type { CounterState } from "../ports/store.js";
import { grown } from "./_memory-columns.js";
import type { Pacer } from "./_memory-pacer.js";

const MAX_COUNT = 0xffffffff;

/** Slots of `families` counters each, keyed by a string. */
class CounterTable {
  readonly #families: number;
  #slotOf = new Map<string, number>();
  #draining: Map<string, number> | undefined;
  #sweep: Iterator<[string, number]> | undefined;
  #key: (string | undefined)[] = [];
  #count = new Uint32Array(0);
  #reset = new Float64Array(0);
  #free: number[] = [];
  #high = 0;

  constructor(families: number) {
    this.#families = families;
  }

  /** The slot of `key`, or -1 (entries of released slots are ignored). */
  slot(key: string): number {
    let slot = this.#slotOf.get(key);
    if (slot === undefined && this.#draining !== undefined) slot = this.#draining.get(key);
    return slot !== undefined && this.#key[slot] === key ? slot : -1;
  }

  count(cell: number): number {
    return this.#count[cell]!;
  }

  resetAt(cell: number): number {
    return this.#reset[cell]!;
  }

  /** The cell of `key`'s counter of `family` while its window is live at `nowMs`, else -1. */
  live(key: string, family: number, nowMs: number): number {
    const slot = this.slot(key);
    if (slot < 0) return -1;
    const cell = slot * this.#families + family;
    return nowMs < this.#reset[cell]! ? cell : -1;
  }

  /** One hit on `key`'s counter of `family` (a new window when none is live); its cell. */
  increment(key: string, family: number, windowMs: number, nowMs: number, stored: string): number {
    this.#sweepSome(nowMs);
    let slot = this.slot(key);
    if (slot < 0) {
      slot = this.#allocate(stored);
      this.#slotOf.set(stored, slot);
    } else if (this.#draining !== undefined && !this.#slotOf.has(key)) {
      this.#slotOf.set(this.#key[slot]!, slot); // written while draining: the fresh map holds it from now on
    }
    const cell = slot * this.#families + family;
    if (nowMs >= this.#reset[cell]!) {
      this.#count[cell] = 1;
      this.#reset[cell] = nowMs + windowMs;
    } else if (this.#count[cell]! < MAX_COUNT) this.#count[cell] = this.#count[cell]! + 1;
    return cell;
  }

  /** One hit taken back from a live counter (never below 0). */
  decrement(key: string, family: number, nowMs: number): CounterState {
    const cell = this.live(key, family, nowMs);
    if (cell < 0) return { count: 0, resetAtMs: 0 };
    if (this.#count[cell]! > 0) this.#count[cell] = this.#count[cell]! - 1;
    return { count: this.#count[cell]!, resetAtMs: this.#reset[cell]! };
  }

  /** Keeps the slots with a live counter only, in a fresh map built in slices. */
  async purge(nowMs: number, pacer: Pacer): Promise<void> {
    if (this.#draining !== undefined || this.#slotOf.size === 0) return;
    const old = this.#slotOf;
    const fresh = new Map<string, number>();
    this.#draining = old;
    this.#slotOf = fresh;
    this.#sweep = undefined;
    try {
      for (const [key, slot] of old) {
        const due = pacer.due();
        if (due !== undefined) await due;
        if (this.#key[slot] !== key || fresh.has(key)) continue; // released, or written meanwhile
        if (this.#liveAt(slot, nowMs)) fresh.set(key, slot);
        else this.#release(slot);
      }
    } finally {
      this.#draining = undefined;
    }
  }

  /** Every key and count held (the store's `debugSnapshot`). */
  snapshot(strings: string[]): void {
    for (const [key, slot] of this.#slotOf) {
      if (this.#key[slot] !== key) continue;
      strings.push(key);
      for (let f = 0; f < this.#families; f++) strings.push(String(this.#count[slot * this.#families + f]));
    }
  }

  #liveAt(slot: number, nowMs: number): boolean {
    for (let f = 0; f < this.#families; f++) if (nowMs < this.#reset[slot * this.#families + f]!) return true;
    return false;
  }

  #allocate(key: string): number {
    let slot = this.#free.pop();
    if (slot === undefined) {
      slot = this.#high++;
      if (slot * this.#families >= this.#count.length) {
        const capacity = Math.max(1024, (this.#count.length / this.#families) * 2) * this.#families;
        this.#count = grown(this.#count, new Uint32Array(capacity));
        this.#reset = grown(this.#reset, new Float64Array(capacity));
      }
    }
    this.#key[slot] = key;
    return slot;
  }

  #release(slot: number): void {
    this.#key[slot] = undefined;
    for (let f = 0; f < this.#families; f++) {
      this.#count[slot * this.#families + f] = 0;
      this.#reset[slot * this.#families + f] = 0;
    }
    this.#free.push(slot);
  }

  /** Lazy purge: looks at two entries per increment and drops the slots whose counters all ended. */
  #sweepSome(nowMs: number): void {
    for (let n = 0; n < 2; n++) {
      this.#sweep ??= this.#slotOf.entries();
      const next = this.#sweep.next();
      if (next.done) {
        this.#sweep = undefined;
        return;
      }
      const [key, slot] = next.value;
      if (this.#key[slot] === key && !this.#liveAt(slot, nowMs)) {
        this.#slotOf.delete(key);
        this.#release(slot);
      }
    }
  }
}

/**
 * The counters of a memory store other than a guide's cooldown and sends (those are cells of the guide's token
 * slot, see `MemoryTokenStore`): one slot per key.
 */
export class MemoryCounters {
  readonly #table = new CounterTable(1);

  /** The cell of `key`'s counter while its window is live at `nowMs`, else -1; then `count`/`resetAt`. */
  live(key: string, nowMs: number): number {
    return this.#table.live(key, 0, nowMs);
  }

  /** The count of the cell `live` or `increment` returned. */
  count(cell: number): number {
    return this.#table.count(cell);
  }

  /** The window's end of the cell `live` or `increment` returned. */
  resetAt(cell: number): number {
    return this.#table.resetAt(cell);
  }

  /** One hit on `key` (a new window of `windowMs` when none is live); returns its cell (see `count`). */
  increment(key: string, windowMs: number, nowMs: number): number {
    return this.#table.increment(key, 0, windowMs, nowMs, key);
  }

  /** One hit taken back from `key`'s live counter. */
  decrement(key: string, nowMs: number): CounterState {
    return this.#table.decrement(key, 0, nowMs);
  }

  /** Drops the counters whose windows ended at `nowMs`, in slices. */
  async purge(nowMs: number, pacer: Pacer): Promise<void> {
    await this.#table.purge(nowMs, pacer);
  }

  /** Every key and count held. */
  snapshot(strings: string[]): void {
    this.#table.snapshot(strings);
  }
}
