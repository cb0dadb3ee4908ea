/**
 * The memory store's id table (guide and beneficiary ids as bytes): against a plain `Map` model under random
 * acquire / release / find / tag sequences (fast-check), with texts that are kept as bytes and texts that are
 * kept aside (empty, past 255 units, wider than a byte), and with enough entries and removals to make the
 * table grow and shift its buckets back.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { KeyTable } from "../../src/adapters/_memory-keys.js";

/** A model of the table: text → [index, holders, tag]. */
type Model = Map<string, { index: number; uses: number; tag: number }>;

function check(table: KeyTable, model: Model, texts: readonly string[]): void {
  expect(table.size).toBe(model.size);
  for (const text of texts) {
    const entry = model.get(text);
    const index = table.find(text);
    if (entry === undefined) {
      expect(index).toBe(-1);
      continue;
    }
    expect(index).toBe(entry.index);
    expect(table.text(index)).toBe(text);
    expect(table.tag(index)).toBe(entry.tag);
  }
}

const text = fc.oneof(
  fc.constantFrom(
    "",
    "A",
    "G000000001",
    "BEN000000001",
    "é-latin1-ÿ",
    "wide-€",
    "x".repeat(255),
    "y".repeat(256),
  ),
  fc.string({ maxLength: 20 }),
  fc.string({ unit: "binary", maxLength: 6 }),
  fc.integer({ min: 0, max: 40 }).map((n) => `K${n}`),
);

describe("KeyTable", () => {
  it("agrees with a Map model under random operations", () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ op: fc.constantFrom("acquire", "release", "tag"), text, tag: fc.integer() }), {
          maxLength: 200,
        }),
        (ops) => {
          const table = new KeyTable();
          const model: Model = new Map();
          const seen = new Set<string>();
          for (const { op, text: t, tag } of ops) {
            seen.add(t);
            const entry = model.get(t);
            if (op === "acquire") {
              const index = table.acquire(t);
              if (entry === undefined) model.set(t, { index, uses: 1, tag: 0 });
              else {
                expect(index).toBe(entry.index);
                entry.uses++;
              }
            } else if (entry !== undefined && op === "release") {
              table.release(entry.index);
              if (--entry.uses === 0) model.delete(t);
            } else if (entry !== undefined) {
              table.setTag(entry.index, tag);
              entry.tag = tag;
            }
            check(table, model, [...seen]);
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  it("grows past its first buckets and shifts entries back on removal, every survivor still found", () => {
    const table = new KeyTable();
    const n = 5000;
    const index = new Map<string, number>();
    for (let i = 0; i < n; i++) {
      const t = `G${String(i).padStart(9, "0")}`;
      const k = table.acquire(t);
      table.setTag(k, i + 1);
      index.set(t, k);
    }
    // Remove two in three, in an order unrelated to insertion.
    for (let i = 0; i < n; i++) {
      if (i % 3 === 0) continue;
      const t = `G${String((i * 7919) % n).padStart(9, "0")}`;
      const k = index.get(t);
      if (k === undefined || ((i * 7919) % n) % 3 === 0) continue;
      table.release(k);
      index.delete(t);
    }
    expect(table.size).toBe(index.size);
    for (let i = 0; i < n; i++) {
      const t = `G${String(i).padStart(9, "0")}`;
      const k = index.get(t);
      expect(table.find(t)).toBe(k ?? -1);
      if (k !== undefined) expect(table.tag(k)).toBe(i + 1);
    }
    // Freed entries are reused, and the texts read back.
    const again = table.acquire("G-new");
    expect(table.text(again)).toBe("G-new");
  });

  it("a held text stays until its last holder lets go", () => {
    const table = new KeyTable();
    const a = table.acquire("BEN-1");
    expect(table.acquire("BEN-1")).toBe(a);
    table.release(a);
    expect(table.find("BEN-1")).toBe(a);
    table.release(a);
    expect(table.find("BEN-1")).toBe(-1);
    expect(table.size).toBe(0);
  });
});
