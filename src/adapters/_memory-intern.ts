/**
 * Interned strings of the memory store (internal): each distinct value (a provider id, a rejection reason) is
 * held once, and a slot keeps its small index instead of a pointer.
 *
 * @module
 */

/** A table of distinct strings, each with a stable index from 0, up to `limit` of them. */
export class Interner {
  readonly values: string[] = [];
  readonly #index = new Map<string, number>();
  readonly #limit: number;

  /** @param limit - at most this many distinct values (past it, {@link Interner.slot} answers -1) */
  constructor(limit: number) {
    this.#limit = limit;
  }

  /** The index of `value`, added when new; -1 when the table is full and `value` is not in it. */
  slot(value: string): number {
    const known = this.#index.get(value);
    if (known !== undefined) return known;
    if (this.values.length >= this.#limit) return -1;
    this.values.push(value);
    this.#index.set(value, this.values.length - 1);
    return this.values.length - 1;
  }
}
