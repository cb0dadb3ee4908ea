/**
 * A side map of the memory store's slots (internal): the rare per-slot values without a column (a token's
 * non-compact hash or id, the hash its token superseded). Every read is gated by a flag of the slot's own
 * columns, so an entry left behind by a released slot is never read: `purge` releases slots without deleting
 * their entries (a `Map` that falls below a quarter of its capacity rehashes all it still holds in one step),
 * then {@link SlotSideMap.rebuild} copies the entries still wanted to a fresh map in slices.
 *
 * @module
 */
import type { Pacer } from "./_memory-pacer.js";

/** Slot → value, read through the slot's flag (see the module note). */
export class SlotSideMap<T> {
  #map = new Map<number, T>();
  // While a rebuild runs: the map being drained (read after the fresh one, never written).
  #old: Map<number, T> | undefined;

  /** Entries held (the fresh map's, during a rebuild). */
  get size(): number {
    return this.#map.size + (this.#old?.size ?? 0);
  }

  /** The value set for `slot`: call it only when the slot's flag says it has one. */
  get(slot: number): T | undefined {
    const value = this.#map.get(slot);
    return value !== undefined || this.#old === undefined ? value : this.#old.get(slot);
  }

  set(slot: number, value: T): void {
    this.#map.set(slot, value);
  }

  /** Forgets `slot`'s value (a single delete; `purge` rebuilds instead). */
  delete(slot: number): void {
    this.#map.delete(slot);
  }

  /** Every value held, stale ones included (callers filter by the slot's flag). */
  entries(): IterableIterator<[number, T]> {
    return this.#map.entries();
  }

  /**
   * Replaces the map by a fresh one holding the entries `keep` accepts, in slices; values set meanwhile go to
   * the fresh map and win over the old ones. A second call while one runs returns at once.
   */
  async rebuild(keep: (slot: number) => boolean, pacer: Pacer): Promise<void> {
    if (this.#old !== undefined || this.#map.size === 0) return;
    const old = this.#map;
    const fresh = new Map<number, T>();
    this.#old = old;
    this.#map = fresh;
    try {
      for (const [slot, value] of old) {
        const due = pacer.due();
        if (due !== undefined) await due;
        if (!fresh.has(slot) && keep(slot)) fresh.set(slot, value);
      }
    } finally {
      this.#old = undefined;
    }
  }
}
