/**
 * Time slices for the memory store's long loops (internal): `purge` works until a slice of a few milliseconds
 * is spent, then lets the event loop run (I/O, timers) before it goes on. Slicing by time rather than by a
 * count of slots keeps each block short whatever one slot costs.
 *
 * @module
 */

const now: () => number =
  typeof performance !== "undefined" && typeof performance.now === "function"
    ? () => performance.now()
    : () => Date.now();

/** Lets the event loop run between two slices. */
export function yieldToLoop(): Promise<void> {
  return new Promise((resolve) => {
    if (typeof setImmediate === "function") setImmediate(resolve);
    else setTimeout(resolve, 0);
  });
}

/** Tells a loop when its slice is spent: after `sliceMs`, or after `maxSteps` steps, whichever comes first. */
export class Pacer {
  readonly #sliceMs: number;
  readonly #maxSteps: number;
  #start = now();
  #steps = 0;

  /**
   * @param sliceMs - how long a slice may run before the loop yields
   * @param maxSteps - how many steps (calls of {@link Pacer.due}) a slice may take at most
   */
  constructor(sliceMs: number, maxSteps: number) {
    this.#sliceMs = sliceMs;
    this.#maxSteps = maxSteps;
  }

  /**
   * A promise to await when the slice is spent (the next slice starts once it resolves), else `undefined`.
   * Reads the clock once every 32 steps.
   */
  due(): Promise<void> | undefined {
    const steps = ++this.#steps;
    if (steps < this.#maxSteps && ((steps & 31) !== 0 || now() - this.#start < this.#sliceMs))
      return undefined;
    return yieldToLoop().then(() => {
      this.#steps = 0;
      this.#start = now();
    });
  }
}
