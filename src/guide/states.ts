/**
 * The guide's vocabulary: its states, its events, the shape of a guide and the transition table that the
 * machine, {@link availableEvents} and the Mermaid diagram are all generated from.
 *
 * @module
 */
import type { VerificationReceipt } from "../ports/receipt.js";
import type {
  AbsenceReasonCode,
  ProfessionalCouncil,
  TissCboCode,
  TissCouncilCode,
  TissTableCode,
  TissUfCode,
  Uf,
} from "./tiss.js";

/** Every guide state, in the order of the diagram. */
export const GUIDE_STATES = [
  "requested",
  "under_review",
  "awaiting_justification",
  "awaiting_documents",
  "authorized",
  "partially_authorized",
  "denied",
  "cancelled",
  "confirmed",
  "billed",
  "paid",
  "disallowed",
  "appealed",
  "expired",
] as const;

/** A state of a guide; where it overlaps TISS `dm_statusSolicitacao` (table 45), see {@link toTissStatus}. */
export type GuideState = (typeof GUIDE_STATES)[number];

/** The states that accept no event at all. */
export const TERMINAL_GUIDE_STATES: readonly GuideState[] = ["denied", "cancelled", "paid", "expired"];

/** The operator's review states: `authorize`, `deny` and the review steps are taken from any of them. */
export const REVIEW_GUIDE_STATES: readonly GuideState[] = [
  "requested",
  "under_review",
  "awaiting_justification",
  "awaiting_documents",
];

/** Every event type, in the order {@link availableEvents} lists them. */
export const GUIDE_EVENT_TYPES = [
  "start_review",
  "request_justification",
  "request_documents",
  "authorize",
  "deny",
  "cancel",
  "confirm",
  "bill",
  "pay",
  "disallow",
  "appeal",
  "expire",
] as const;

/** The type of a {@link GuideEvent}. */
export type GuideEventType = (typeof GUIDE_EVENT_TYPES)[number];

/** The TISS guide types: guia de consulta, SP/SADT, resumo de internação, odontológica, honorários. */
export const GUIDE_TYPES = ["consulta", "sp_sadt", "internacao", "odonto", "honorarios"] as const;

/** A guide type. A `honorarios` guide has no token field in TISS and confirms without proof. */
export type GuideType = (typeof GUIDE_TYPES)[number];

/** The character of the attendance (TISS table 23, `caraterAtendimento`): 1 eletiva, 2 urgência/emergência. */
export type GuideCharacter = "eletiva" | "urgencia";

/** The beneficiary as the guide names them. */
export interface GuideBeneficiary {
  /** The card number at the operator (`numeroCarteira`, up to 20 characters). */
  readonly cardNumber: string;
  /** The CPF, 11 digits without punctuation (check digits verified on input). */
  readonly cpf?: string | undefined;
}

/** The professional who performs the attendance, as {@link createGuide} takes it. */
export interface GuideProfessionalInput {
  /** The council: its `dm_conselhoProfissional` code (`06`) or its sigla (`CRM`). Stored as the code. */
  readonly council: ProfessionalCouncil | TissCouncilCode;
  /** The registration number at the council (up to 15 characters). */
  readonly number: string;
  /** The council's state: its `dm_UF` code (`41`) or its sigla (`PR`; `EX` for `98`). Stored as the code. */
  readonly uf: Uf | "EX" | TissUfCode;
  /** The CBO-S occupation code, one of the schema's `dm_CBOS` enumeration, such as `225125`. */
  readonly cbo: string;
}

/** The professional who performs the attendance, as a guide stores it: TISS codes. */
export interface GuideProfessional {
  /** The `dm_conselhoProfissional` code, such as `06` (CRM); see {@link TISS_COUNCILS}. */
  readonly council: TissCouncilCode;
  /** The registration number at the council (up to 15 characters). */
  readonly number: string;
  /** The `dm_UF` code (IBGE), such as `41` (PR); see {@link TISS_UF}. */
  readonly uf: TissUfCode;
  /** The CBO-S occupation code (`dm_CBOS`), such as `225125`. */
  readonly cbo: TissCboCode;
}

/** The provider (prestador), as {@link createGuide} takes it. */
export interface GuideProviderInput {
  /** The provider's code at the operator (`codigoPrestadorNaOperadora`, up to 14 characters). */
  readonly code: string;
  /** The professional, when the guide names one. */
  readonly professional?: GuideProfessionalInput | undefined;
}

/** The provider (prestador) at which the attendance happens. */
export interface GuideProvider {
  /** The provider's code at the operator (`codigoPrestadorNaOperadora`, up to 14 characters). */
  readonly code: string;
  /** The professional, when the guide names one. */
  readonly professional?: GuideProfessional | undefined;
}

/** One procedure requested on the guide, as {@link createGuide} takes it. */
export interface GuideProcedureInput {
  /** The procedure code (`codigoProcedimento`): 8 digits for table 22 (TUSS), else 1 to 10 characters. */
  readonly tuss: string;
  /** How many, 1 to 999 (`st_numerico3`). */
  readonly quantity: number;
  /** The table the code comes from (`codigoTabela`, `dm_tabela`); default `22` (TUSS procedures). */
  readonly table?: TissTableCode | undefined;
}

/** One procedure requested on the guide. */
export interface GuideProcedure {
  /** The procedure code (`codigoProcedimento`): 8 digits for table 22 (TUSS), such as `40304361`. */
  readonly tuss: string;
  /** How many, 1 to 999. */
  readonly quantity: number;
  /** The table the code comes from (`codigoTabela`); a guide stored before it existed reads as `22`. */
  readonly table: TissTableCode;
}

/** What {@link createGuide} takes. */
export interface GuideInput {
  /** The guide's id: its `numeroGuiaPrestador`, 1 to 20 characters. */
  readonly id: string;
  /** The TISS guide type. */
  readonly type: GuideType;
  /** Elective or urgent. */
  readonly character: GuideCharacter;
  /** The beneficiary. */
  readonly beneficiary: GuideBeneficiary;
  /** The provider. */
  readonly provider: GuideProviderInput;
  /** The procedures, at least one; exactly one on a `consulta`. */
  readonly procedures: readonly GuideProcedureInput[];
}

/** The operator's authorization, set by `authorize`. */
export interface GuideAuthorization {
  /** The senha (authorization number), up to 20 characters. */
  readonly senha: string;
  /**
   * `dataValidadeSenha`, `YYYY-MM-DD`. The senha is valid through the end of that day in America/Sao_Paulo
   * (UTC−03:00, no daylight saving time since 2019): it expires at 03:00 UTC of the next day.
   */
  readonly validUntil: string;
  /** Whether only part of the request was authorized (`partially_authorized`, TISS status 7). */
  readonly partial: boolean;
  /**
   * The operator's number for the guide (`numeroGuiaOperadora`, up to 20 characters). A guia de consulta has no
   * `senha` in TISS: operators carry the consulta's authorization number here.
   */
  readonly numeroGuiaOperadora?: string | undefined;
  /** When it was authorized (ms since the epoch); `dataAutorizacao` is its São Paulo date. */
  readonly atMs: number;
}

/**
 * How the attendance was confirmed. TISS wants exactly one of `codValidacao` (the token) and
 * `ausenciaCodValidacao` (table 74) on every guide except honorários.
 */
export type GuideConfirmation =
  | {
      /** Confirmed by a token the beneficiary presented. */
      readonly kind: "token";
      /** When the guide was confirmed (ms). */
      readonly atMs: number;
      /**
       * The validated code, kept because TISS requires it as `codValidacao` when the guide is billed. The
       * code is single-use and already consumed by then, so keeping it grants no access.
       */
      readonly codValidacao: string;
      /** The token (or TOTP step claim) the verification consumed. */
      readonly tokenId: string;
      /** The beneficiary the token was issued for (an opaque id). */
      readonly beneficiaryId: string;
      /** When the code was verified (ms). */
      readonly verifiedAtMs: number;
      /** How the code reached the beneficiary. */
      readonly mode: "sent" | "app";
    }
  | {
      /** Confirmed without a token, for a reason of TISS table 74. */
      readonly kind: "absence";
      /** When the guide was confirmed (ms). */
      readonly atMs: number;
      /** The `ausenciaCodValidacao` code, `01` to `07`. */
      readonly reason: AbsenceReasonCode;
      /** Free-text justification (1 to 500 characters). */
      readonly justification: string;
    }
  | {
      /** A honorários guide: TISS has no token field for it, so it confirms without proof. */
      readonly kind: "not_required";
      /** When the guide was confirmed (ms). */
      readonly atMs: number;
    };

/** One step of a guide's history. */
export interface GuideHistoryEntry {
  /** The state before. */
  readonly from: GuideState;
  /** The state after. */
  readonly to: GuideState;
  /** The event that moved it. */
  readonly event: GuideEventType;
  /** When (ms since the epoch). */
  readonly atMs: number;
}

/**
 * A guide: plain JSON (no `Date`, no class instances), so `JSON.parse(JSON.stringify(guide))` is the same
 * guide. Build one with {@link createGuide}; move it with {@link transition}, which returns a new guide.
 */
export interface Guide extends Omit<GuideInput, "provider" | "procedures"> {
  /** The provider, with the professional's council and UF as TISS codes. */
  readonly provider: GuideProvider;
  /** The procedures, each with its table. */
  readonly procedures: readonly GuideProcedure[];
  /** The current state. */
  readonly state: GuideState;
  /** Set by `authorize`. */
  readonly authorization?: GuideAuthorization | undefined;
  /** Glosa codes (TISS table 38) of a denial, set by `deny`. */
  readonly denial?: { readonly glosas: readonly string[]; readonly atMs: number } | undefined;
  /** Set by `confirm`. */
  readonly confirmation?: GuideConfirmation | undefined;
  /** Set by `bill`: the batch (`numeroLote`). */
  readonly billing?: { readonly batchId: string; readonly atMs: number } | undefined;
  /** The latest disallowance (glosa), set by `disallow`. */
  readonly disallowance?: { readonly glosas: readonly string[]; readonly atMs: number } | undefined;
  /** The latest appeal (recurso de glosa), set by `appeal`. */
  readonly appeal?: { readonly justification?: string | undefined; readonly atMs: number } | undefined;
  /** When it was paid. */
  readonly payment?: { readonly atMs: number } | undefined;
  /** Every transition, oldest first. Empty for a new guide. */
  readonly history: readonly GuideHistoryEntry[];
}

/** A reason of TISS table 74 with its free-text justification. */
export interface GuideAbsence {
  /** `ausenciaCodValidacao`, `01` to `07`. */
  readonly reason: AbsenceReasonCode;
  /** Why (1 to 500 characters). */
  readonly justification: string;
}

/**
 * An event for {@link transition}. Each carries what its step needs; unknown fields are refused.
 * `confirm` carries a `receipt` from the token service, or an `absence`, or (honorários only) neither.
 */
export type GuideEvent =
  | { readonly type: "start_review" }
  | { readonly type: "request_justification" }
  | { readonly type: "request_documents" }
  | {
      readonly type: "authorize";
      /** The senha, 1 to 20 characters. */
      readonly senha: string;
      /** `YYYY-MM-DD`, valid through the end of that day in America/Sao_Paulo. */
      readonly validUntil: string;
      /** Partial authorization (TISS status 7). */
      readonly partial?: boolean | undefined;
      /** The operator's number for the guide (`numeroGuiaOperadora`, 1 to 20 characters). */
      readonly numeroGuiaOperadora?: string | undefined;
    }
  | {
      readonly type: "deny" /** Glosa codes (TISS table 38, 4 digits), at least one. */;
      readonly glosas: readonly string[];
    }
  | { readonly type: "cancel" }
  | {
      readonly type: "confirm";
      /** The receipt of a successful verification for this guide and provider. */
      readonly receipt?: VerificationReceipt | undefined;
      /** Or a TISS table 74 absence reason. */
      readonly absence?: GuideAbsence | undefined;
    }
  | {
      readonly type: "bill" /** The batch id (`numeroLote`, 1 to 12 characters). */;
      readonly batchId: string;
    }
  | { readonly type: "pay" }
  | {
      readonly type: "disallow" /** Glosa codes (TISS table 38, 4 digits), at least one. */;
      readonly glosas: readonly string[];
    }
  | {
      readonly type: "appeal" /** Optional free-text grounds (up to 500 characters). */;
      readonly justification?: string | undefined;
    }
  | { readonly type: "expire" };

/** Day-based limits, validated with zod. */
export interface GuidePolicy {
  /** Days after the confirmation day within which the guide may be billed (default 90). */
  readonly billingWindowDays?: number | undefined;
  /** Days within which a consultation by the same provider is a return visit (default 30). */
  readonly returnWindowDays?: number | undefined;
}

/** One edge of the transition table. */
export interface GuideTransitionRule {
  /** The state the event is taken from. */
  readonly from: GuideState;
  /** The event. */
  readonly event: GuideEventType;
  /** The state it lands in. `authorize` has two rules per state; `partial` picks one. */
  readonly to: GuideState;
}

const rules: GuideTransitionRule[] = [];
for (const from of REVIEW_GUIDE_STATES) {
  if (from !== "under_review") rules.push({ from, event: "start_review", to: "under_review" });
  if (from !== "awaiting_justification") {
    rules.push({ from, event: "request_justification", to: "awaiting_justification" });
  }
  if (from !== "awaiting_documents")
    rules.push({ from, event: "request_documents", to: "awaiting_documents" });
  rules.push({ from, event: "authorize", to: "authorized" });
  rules.push({ from, event: "authorize", to: "partially_authorized" });
  rules.push({ from, event: "deny", to: "denied" });
}
for (const from of [...REVIEW_GUIDE_STATES, "authorized", "partially_authorized", "confirmed"] as const) {
  rules.push({ from, event: "cancel", to: "cancelled" });
}
for (const from of ["authorized", "partially_authorized"] as const) {
  rules.push({ from, event: "confirm", to: "confirmed" });
  rules.push({ from, event: "expire", to: "expired" });
}
rules.push(
  { from: "confirmed", event: "bill", to: "billed" },
  { from: "confirmed", event: "expire", to: "expired" },
  { from: "billed", event: "pay", to: "paid" },
  { from: "billed", event: "disallow", to: "disallowed" },
  { from: "disallowed", event: "appeal", to: "appealed" },
  { from: "appealed", event: "pay", to: "paid" },
  { from: "appealed", event: "disallow", to: "disallowed" },
);

/**
 * The transition table: every legal (state, event) pair and where it lands. Guards (senha validity, billing
 * window, receipt binding) are checked by {@link transition} on top of it.
 *
 * - review steps (`start_review`, `request_justification`, `request_documents`), `authorize` and `deny`:
 *   from `requested` or any review state (a review step never loops onto its own state);
 * - `cancel`: from any state before billing that is not terminal;
 * - `confirm`: from `authorized` or `partially_authorized`;
 * - `bill`: from `confirmed`; `pay` and `disallow`: from `billed` or `appealed`; `appeal`: from `disallowed`;
 * - `expire`: from `authorized`/`partially_authorized` (senha validity passed) and `confirmed` (billing
 *   window passed).
 */
export const GUIDE_TRANSITIONS: readonly GuideTransitionRule[] = Object.freeze(
  rules
    .sort((a, b) => GUIDE_STATES.indexOf(a.from) - GUIDE_STATES.indexOf(b.from))
    .map((r) => Object.freeze(r)),
);
