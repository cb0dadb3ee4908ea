/**
 * The typed-array columns of the memory store's tables (internal): growing one copies it into a larger one.
 *
 * @module
 */

/** A column of numbers. */
export type Column = Float64Array | Int32Array | Uint32Array | Uint8Array;

/** `next` (a larger, empty column of the same kind) holding `old`'s values at their indices. */
export function grown<T extends Column>(old: T, next: T): T {
  next.set(old as never);
  return next;
}
