/**
 * The cancellation of one delivery run (internal): set once by the deadline or the caller's signal. It makes
 * the `AbortSignal` handed to notifiers only when one reads it (an `AbortController` and its event listeners
 * cost microseconds on every issue, and most notifiers never look), and calls its own listeners directly.
 *
 * @module
 */

/** A one-shot abort: `abort(reason)` once, listeners called in the order they were added. */
export class AbortLatch {
  #aborted = false;
  #reason: unknown;
  #controller: AbortController | undefined;
  #listeners: (() => void)[] = [];

  /** Whether the run was aborted. */
  get aborted(): boolean {
    return this.#aborted;
  }

  /** Why (the deadline's `TimeoutError`, or the caller's signal's reason). */
  get reason(): unknown {
    return this.#reason;
  }

  /** An `AbortSignal` that aborts with the latch (made on first read). */
  get signal(): AbortSignal {
    if (this.#controller === undefined) {
      this.#controller = new AbortController();
      if (this.#aborted) this.#controller.abort(this.#reason);
    }
    return this.#controller.signal;
  }

  /** Aborts (once): the signal first, when it was made, then the listeners. */
  abort(reason: unknown): void {
    if (this.#aborted) return;
    this.#aborted = true;
    this.#reason = reason;
    this.#controller?.abort(reason);
    const listeners = this.#listeners;
    this.#listeners = [];
    for (const listener of listeners) listener();
  }

  /** Calls `listener` once on abort; returns the function that removes it. */
  onAbort(listener: () => void): () => void {
    this.#listeners.push(listener);
    return () => {
      const at = this.#listeners.indexOf(listener);
      if (at >= 0) this.#listeners.splice(at, 1);
    };
  }
}
