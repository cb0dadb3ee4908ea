/**
 * `T` with its `readonly` modifiers removed (internal): for an object built as one literal on a hot path and
 * then given its optional fields by assignment, instead of by conditional spreads.
 *
 * @module
 */

/** `T` without `readonly` on its own properties. */
export type Mutable<T> = { -readonly [K in keyof T]: T[K] };
