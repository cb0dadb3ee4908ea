/**
 * A {@link GuideRepository} in process memory: for tests, the demo and a single process. Each `save` is one
 * synchronous compare-and-set, so concurrent callers in one process are serialized.
 *
 * @module
 */
import type {
  AttendanceRecord,
  GuideListFilter,
  GuideRepository,
  GuideSaveResult,
  StoredAttendance,
} from "../ports/guides.js";

/**
 * Guides in a `Map`, stored as JSON text so a caller can never change a stored guide through a reference.
 *
 * @example
 * ```ts
 * const desk = createAttendanceDesk({ tokens, guides: new MemoryGuideRepository(), clock });
 * ```
 */
export class MemoryGuideRepository implements GuideRepository {
  readonly #rows = new Map<string, { version: number; json: string }>();

  /** The attendance of a guide, or `undefined`. */
  async load(guideId: string): Promise<StoredAttendance | undefined> {
    const row = this.#rows.get(guideId);
    return row === undefined
      ? undefined
      : { ...(JSON.parse(row.json) as AttendanceRecord), version: row.version };
  }

  /** Writes the record if the stored version is `expectedVersion` (0: only a new guide). */
  async save(record: AttendanceRecord, expectedVersion: number): Promise<GuideSaveResult> {
    const id = record.guide.id;
    const current = this.#rows.get(id)?.version ?? 0;
    if (current !== expectedVersion)
      return current === 0 ? { saved: false } : { saved: false, currentVersion: current };
    const { version: _ignored, ...plain } = record as StoredAttendance;
    const version = current + 1;
    this.#rows.set(id, { version, json: JSON.stringify(plain) });
    return { saved: true, version };
  }

  /** The attendances of one card number (optionally of one provider), at most 1000. */
  async list(filter: GuideListFilter): Promise<StoredAttendance[]> {
    const out: StoredAttendance[] = [];
    for (const [id] of this.#rows) {
      const a = (await this.load(id))!;
      if (a.guide.beneficiary.cardNumber !== filter.cardNumber) continue;
      if (filter.providerCode !== undefined && a.guide.provider.code !== filter.providerCode) continue;
      out.push(a);
      if (out.length === 1000) break;
    }
    return out;
  }
}
