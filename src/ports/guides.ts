/**
 * The guide repository port: where the attendance desk keeps each guide, with a version number for
 * optimistic concurrency, so two attendants never both confirm or both bill one guide.
 *
 * @module
 */
import type { Guide } from "../guide/states.js";

/**
 * The operator's answer to an eligibility check (elegibilidade): whether the beneficiary may be attended,
 * why, and when the operator answered.
 */
export interface EligibilityCheck {
  /** Whether the operator said the beneficiary is eligible. */
  readonly eligible: boolean;
  /** The operator's reason or message (1 to 200 characters), such as `carência` or `ativo`. */
  readonly reason?: string | undefined;
  /** When the operator answered (ms since the epoch). */
  readonly checkedAtMs: number;
}

/**
 * What the code's message may say about the attendance, so the beneficiary knows what the code confirms.
 * Each field is optional and kept minimal (LGPD): which ones reach a message is configured per channel.
 */
export interface AttendanceDisplay {
  /** The provider's display name, such as `Clínica Exemplo` (1 to 60 characters). */
  readonly providerName?: string | undefined;
  /** A short procedure summary, such as `Consulta eletiva` (1 to 60 characters). */
  readonly procedureSummary?: string | undefined;
}

/** One attendance as the desk stores it: the guide document and what the desk decided around it. */
export interface AttendanceRecord {
  /** The guide, as {@link transition} produced it. */
  readonly guide: Guide;
  /** The beneficiary's opaque id (the token service's `PersonInput.id`; never a CPF or card number). */
  readonly beneficiaryId: string;
  /** Whether this guide needs a token to be confirmed (the rollout policy's answer when it was opened). */
  readonly tokenRequired: boolean;
  /** The latest eligibility check, when one was recorded. */
  readonly eligibility?: EligibilityCheck | undefined;
  /** What the code's message may show. */
  readonly display?: AttendanceDisplay | undefined;
}

/** An {@link AttendanceRecord} as loaded: with the version the next save must name. */
export interface StoredAttendance extends AttendanceRecord {
  /** Starts at 1 and grows by one with every save. */
  readonly version: number;
}

/** The result of {@link GuideRepository.save}. */
export type GuideSaveResult =
  | {
      /** The record was written. */
      readonly saved: true;
      /** Its new version (`expectedVersion + 1`). */
      readonly version: number;
    }
  | {
      /** Someone else wrote first (or, for `expectedVersion` 0, the guide exists already). */
      readonly saved: false;
      /** The version now stored, when the guide exists. */
      readonly currentVersion?: number | undefined;
    };

/** What {@link GuideRepository.list} filters by. */
export interface GuideListFilter {
  /** The beneficiary's card number (`numeroCarteira`). */
  readonly cardNumber: string;
  /** Only guides of this provider code. */
  readonly providerCode?: string | undefined;
}

/**
 * Keeps attendances, keyed by guide id, with optimistic concurrency. `save` is one atomic
 * compare-and-set: it writes only when the stored version equals `expectedVersion` (0: only when the guide
 * does not exist), so of N concurrent saves naming the same version exactly one succeeds. A backend failure
 * rejects (the desk turns it into `StoreUnavailableError`); a lost race resolves `{ saved: false }`.
 *
 * @example
 * ```ts
 * const repo: GuideRepository = new MemoryGuideRepository();
 * const first = await repo.save(record, 0); // { saved: true, version: 1 }
 * const again = await repo.save(record, 0); // { saved: false, currentVersion: 1 }
 * const loaded = await repo.load(record.guide.id); // { ...record, version: 1 }
 * ```
 */
export interface GuideRepository {
  /** The attendance of a guide, or `undefined`. */
  load(guideId: string): Promise<StoredAttendance | undefined>;
  /** Writes the record if the stored version is `expectedVersion` (0: the guide must not exist yet). */
  save(record: AttendanceRecord, expectedVersion: number): Promise<GuideSaveResult>;
  /** The attendances of one card number (for return visits), in no particular order, at most 1000. */
  list(filter: GuideListFilter): Promise<StoredAttendance[]>;
}
