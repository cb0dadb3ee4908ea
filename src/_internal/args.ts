/**
 * Argument checks for the public helpers (internal): a wrong type from a JavaScript caller, or `null` where a
 * value belongs, becomes an `InvalidArgumentError` naming the parameter, never a `TypeError` from deep inside.
 */
import { ConfigError, InvalidArgumentError } from "../errors.js";

function refuse(path: string, expected: string): never {
  throw new InvalidArgumentError(`${path} must be ${expected}`, [{ path, message: `expected ${expected}` }]);
}

/** `value` is a string. */
export function argString(value: unknown, path: string): asserts value is string {
  if (typeof value !== "string") refuse(path, "a string");
}

/** `value` is a non-null object (not an array). */
export function argObject(value: unknown, path: string): asserts value is object {
  if (typeof value !== "object" || value === null || Array.isArray(value)) refuse(path, "an object");
}

/** `value` is `undefined` or a non-null object. */
export function argOptionalObject(value: unknown, path: string): asserts value is object | undefined {
  if (value !== undefined) argObject(value, path);
}

/** `value` is an integer from `min` to `max`. */
export function argInt(value: unknown, path: string, min: number, max: number): asserts value is number {
  if (typeof value !== "number" || !Number.isInteger(value) || value < min || value > max) {
    refuse(path, `an integer from ${min} to ${max}`);
  }
}

/** `value` is a `Uint8Array`. */
export function argBytes(value: unknown, path: string): asserts value is Uint8Array {
  if (!(value instanceof Uint8Array)) refuse(path, "a Uint8Array");
}

/** `value` is iterable (an array, a Set, …) and not a string. */
export function argIterable(value: unknown, path: string): asserts value is Iterable<unknown> {
  if (
    typeof value === "string" ||
    value === null ||
    typeof (value as { [Symbol.iterator]?: unknown })?.[Symbol.iterator] !== "function"
  ) {
    refuse(path, "an iterable (such as an array)");
  }
}

/** Options of a constructor or factory: a non-null object, or `ConfigError` naming what needs them. */
export function argOptions(value: unknown, what: string, scope?: string): asserts value is object {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new ConfigError(`${what} needs an options object`, scope === undefined ? undefined : { scope });
  }
}
