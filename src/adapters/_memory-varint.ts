/**
 * The number codec of the memory store's event records (internal): integers as zigzag varints (7 bits a byte,
 * low first), and the forms a record's number takes: a varint when the value (or its difference from a
 * reference) is kept exactly that way, else a double.
 *
 * @module
 */

/** Integers kept as zigzag varints: |value| up to 2^51, so the zigzag form stays a safe integer. */
export const VARINT_LIMIT = 2 ** 51;

/** A number's forms in a record: absent (0), a zigzag varint, a double. */
export const NUM_VARINT = 1;
export const NUM_DOUBLE = 2;

/** Whether `value - ref` is kept exactly as a zigzag varint (else: a double). */
export function fitsVarint(value: number, ref: number): boolean {
  const d = value - ref;
  return Number.isSafeInteger(d) && Math.abs(d) <= VARINT_LIMIT && !Object.is(value, -0) && ref + d === value;
}

export function zigzag(v: number): number {
  return v >= 0 ? v * 2 : -v * 2 - 1;
}

/** The bytes of the varint of a non-negative integer. */
export function varintLength(z: number): number {
  let n = 1;
  while (z >= 128) {
    z = Math.floor(z / 128);
    n++;
  }
  return n;
}

/** The bytes a number of `form` takes (`varintValue`: what its varint would hold). */
export function numberLength(form: number, varintValue: number): number {
  return form === NUM_VARINT ? varintLength(zigzag(varintValue)) : form === NUM_DOUBLE ? 8 : 0;
}

/** Writes the varint of `z` at `q`; the position after it. */
export function writeVarint(u8: Uint8Array, q: number, z: number): number {
  while (z >= 128) {
    u8[q++] = (z % 128) | 128;
    z = Math.floor(z / 128);
  }
  u8[q++] = z;
  return q;
}

/** Writes a number of `form` at `q` (`delta` as a zigzag varint, or `value` as a double); the position after. */
export function writeNumber(
  u8: Uint8Array,
  view: DataView,
  q: number,
  form: number,
  delta: number,
  value: number,
): number {
  if (form === NUM_VARINT) return writeVarint(u8, q, zigzag(delta));
  if (form === NUM_DOUBLE) {
    view.setFloat64(q, value);
    return q + 8;
  }
  return q;
}

/** Reads varints and doubles from a position it moves past what it reads. */
export class ByteReader {
  pos = 0;

  varint(u8: Uint8Array): number {
    let z = 0;
    let scale = 1;
    for (;;) {
      const byte = u8[this.pos++]!;
      z += (byte & 127) * scale;
      if (byte < 128) return z;
      scale *= 128;
    }
  }

  zigzag(u8: Uint8Array): number {
    const z = this.varint(u8);
    return z % 2 === 0 ? z / 2 : -(z + 1) / 2;
  }

  double(view: DataView): number {
    const value = view.getFloat64(this.pos);
    this.pos += 8;
    return value;
  }
}
