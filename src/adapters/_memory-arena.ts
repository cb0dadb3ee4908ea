/**
 * A byte arena of the memory store (internal): variable-length records, 4-byte aligned, in chunks of 1 MiB, so
 * growing it never copies what it holds and leaves at most one chunk partly unused. A record is named by its
 * ref, its byte offset over 4 (0 names none: the first 4 bytes are never handed out). A released record goes to
 * a free list of its size and is handed out again for a record of that size (or one to two units smaller). The
 * free lists run through the records themselves (a free record's first word is the next one's ref), so
 * releasing a million records allocates nothing: a JS array of that many refs would grow, be copied and be
 * scanned by the garbage collector.
 *
 * @module
 */

/** log2 of a chunk's size in bytes. */
const CHUNK_SHIFT = 20;
const CHUNK_BYTES = 1 << CHUNK_SHIFT;
/** A ref's low bits: the unit (4 bytes) within its chunk. */
export const REF_SHIFT = CHUNK_SHIFT - 2;
export const REF_MASK = (1 << REF_SHIFT) - 1;
/** The largest record, in 4-byte units (its size fits the byte the caller keeps it in). */
export const MAX_UNITS = 255;

/** Chunks of bytes, handed out as 4-byte aligned records. */
export class ByteArena {
  /** Per chunk: its bytes, the same as 32-bit words, and a view for unaligned doubles. */
  readonly u8: Uint8Array[] = [];
  readonly i32: Int32Array[] = [];
  readonly view: DataView[] = [];
  #pos = CHUNK_BYTES; // the next free byte of the last chunk
  /** The first free record of each size (0: none); each free record's first word names the next. */
  readonly #free = new Int32Array(MAX_UNITS + 1);
  /** The size in units of the record `allocate` last returned (a reused one may be larger than asked). */
  allocatedUnits = 0;

  /** A record of at least `units` 4-byte units (1 to {@link MAX_UNITS}); its bytes are zero. */
  allocate(units: number): number {
    for (let u = units; u <= units + 2 && u <= MAX_UNITS; u++) {
      const ref = this.#free[u]!;
      if (ref !== 0) {
        const words = this.i32[ref >>> REF_SHIFT]!;
        const w = ref & REF_MASK;
        this.#free[u] = words[w]!;
        words[w] = 0;
        this.allocatedUnits = u;
        return ref;
      }
    }
    this.allocatedUnits = units;
    const bytes = units * 4;
    if (this.#pos + bytes > CHUNK_BYTES) {
      const buffer = new ArrayBuffer(CHUNK_BYTES);
      this.u8.push(new Uint8Array(buffer));
      this.i32.push(new Int32Array(buffer));
      this.view.push(new DataView(buffer));
      this.#pos = this.u8.length === 1 ? 4 : 0;
    }
    const ref = ((this.u8.length - 1) << REF_SHIFT) | (this.#pos >>> 2);
    this.#pos += bytes;
    return ref;
  }

  /** Gives back a record of `units` units (as it was allocated); its bytes are zeroed. */
  release(ref: number, units: number): void {
    const p = (ref & REF_MASK) << 2;
    this.u8[ref >>> REF_SHIFT]!.fill(0, p, p + units * 4);
    this.i32[ref >>> REF_SHIFT]![ref & REF_MASK] = this.#free[units]!;
    this.#free[units] = ref;
  }

  /** A copy of a record's bytes. */
  bytes(ref: number, units: number): Uint8Array {
    const p = (ref & REF_MASK) << 2;
    return this.u8[ref >>> REF_SHIFT]!.slice(p, p + units * 4);
  }
}
