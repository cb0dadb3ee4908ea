/**
 * The TISS vocabulary (ANS Padrão TISS 4.01.00) that the guide machine speaks: the domain tables as typed
 * constants, the field formats, and the mappings from a {@link Guide} to TISS fields.
 *
 * @module
 */

import { argIterable, argObject, argString } from "../_internal/args.js";
import { InvalidArgumentError } from "../errors.js";
import {
  CBOS_CODES,
  COUNCIL_SIGLA_BY_CODE,
  TABELA_CODES,
  TABLE_23,
  TABLE_45,
  TABLE_52,
  TABLE_72,
  TABLE_74,
  UF_SIGLA_BY_CODE,
} from "../tiss/_codes.generated.js";
import { DAY_MS, saoPauloDayOf } from "./_dates.js";
import type { Guide, GuideCharacter } from "./states.js";

/** The TISS version whose tables this module follows. */
export const TISS_VERSION = "4.01.00";

/** A code of TUSS table 74 (`ausenciaCodValidacao`). */
export type AbsenceReasonCode = keyof typeof TISS_ABSENCE_REASONS;

/** TUSS table 74: why a guide carries no token (`dm_ausenciaCodValidacao`), with the schema's full labels. */
export const TISS_ABSENCE_REASONS = TABLE_74;

/** A code of TUSS table 45 (`dm_statusSolicitacao`): a one-character string, `"1"` to `"7"`. */
export type TissStatusCode = keyof typeof TISS_REQUEST_STATUS;

/** TUSS table 45: the status of an authorization request (`statusSolicitacao`). */
export const TISS_REQUEST_STATUS = TABLE_45;

/** A code of TUSS table 23 (`caraterAtendimento`). */
export type TissCharacterCode = keyof typeof TISS_CHARACTER;

/** TUSS table 23: the character of the attendance. */
export const TISS_CHARACTER = TABLE_23;

/** A code of TUSS table 52 (`tipoConsulta`). */
export type TissConsultationTypeCode = keyof typeof TISS_CONSULTATION_TYPE;

/** TUSS table 52: the type of a consultation. `2` is what {@link isReturnVisit} detects. */
export const TISS_CONSULTATION_TYPE = TABLE_52;

/** A code of TUSS table 72 (`dm_tipoIdent`): how the beneficiary was identified. */
export type TissIdentificationCode = keyof typeof TISS_IDENTIFICATION_TYPES;

/** TUSS table 72 (`dm_tipoIdent`): how the beneficiary was identified at the attendance. */
export const TISS_IDENTIFICATION_TYPES = TABLE_72;

/** A table a procedure code comes from (`dm_tabela`): `22` is TUSS procedures, `00` the operator's own. */
export type TissTableCode = (typeof TISS_TABLES)[number];

/** `dm_tabela`: the tables a procedure code may come from (`codigoTabela`). */
export const TISS_TABLES = TABELA_CODES;

/** Glosa (`dm_tipoGlosa`, table 38) for an invalid token: what an operator returns when `codValidacao` does not check. */
export const GLOSA_INVALID_TOKEN = "3156";

/** The 27 federative units (26 states and the Federal District), by two-letter abbreviation. */
export const UFS = [
  "RO",
  "AC",
  "AM",
  "RR",
  "PA",
  "AP",
  "TO",
  "MA",
  "PI",
  "CE",
  "RN",
  "PB",
  "PE",
  "AL",
  "SE",
  "BA",
  "MG",
  "ES",
  "RJ",
  "SP",
  "PR",
  "SC",
  "RS",
  "MS",
  "MT",
  "GO",
  "DF",
] as const;

/** A federative unit's two-letter abbreviation. */
export type Uf = (typeof UFS)[number];

/** A `dm_UF` code: the IBGE code of a UF, or `98` (países estrangeiros). */
export type TissUfCode = keyof typeof TISS_UF;

/** `dm_UF`: every code the schema accepts with its sigla (`98` is `EX`, países estrangeiros). */
export const TISS_UF = UF_SIGLA_BY_CODE;

/**
 * The IBGE code of every UF, which TISS uses for the council's state (`UF`, `dm_UF`). The first digit is the
 * region: 1 North, 2 Northeast, 3 Southeast, 4 South, 5 Center-West.
 */
export const UF_IBGE_CODES: Readonly<Record<Uf, TissUfCode>> = Object.freeze(
  Object.fromEntries(
    Object.entries(UF_SIGLA_BY_CODE)
      .filter(([code]) => code !== "98")
      .map(([code, sigla]) => [sigla, code]),
  ) as Record<Uf, TissUfCode>,
);

/**
 * The IBGE code of a UF (`PR` → `41`; `EX`, países estrangeiros, → `98`), or `undefined` for anything else
 * (upper case only). A `dm_UF` code is returned as it is.
 *
 * @example
 * ```ts
 * ibgeCodeOfUf("PR"); // "41"
 * ```
 */
export function ibgeCodeOfUf(uf: string): TissUfCode | undefined {
  if (typeof uf !== "string") return undefined;
  if (Object.hasOwn(UF_SIGLA_BY_CODE, uf)) return uf as TissUfCode;
  if (uf === "EX") return "98";
  return Object.hasOwn(UF_IBGE_CODES, uf) ? UF_IBGE_CODES[uf as Uf] : undefined;
}

/** A `dm_conselhoProfissional` code, `"01"` to `"15"`. */
export type TissCouncilCode = keyof typeof TISS_COUNCILS;

/** `dm_conselhoProfissional`: every council code with its sigla (`01` CRESS … `06` CRM … `15` CRTR). */
export const TISS_COUNCILS = COUNCIL_SIGLA_BY_CODE;

/** The professional councils' siglas, in code order (`OUT`: any other council). */
export const PROFESSIONAL_COUNCILS = Object.freeze(
  // Sorted by code: "10" to "15" are integer-like keys, which objects enumerate before "01".
  Object.entries(COUNCIL_SIGLA_BY_CODE)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([, sigla]) => sigla),
) as readonly (typeof TISS_COUNCILS)[TissCouncilCode][];

/**
 * A professional council sigla. `CRAS` (the sigla of code 01 before TISS 4.01.00 renamed it CRESS) is still
 * accepted on input and stored as `01`.
 */
export type ProfessionalCouncil = (typeof TISS_COUNCILS)[TissCouncilCode] | "CRAS";

/**
 * The `dm_conselhoProfissional` code of a council given by its code (`06`) or sigla (`CRM`, `CRBio`; `CRAS`
 * maps to `01`), or `undefined` for anything else.
 *
 * @example
 * ```ts
 * councilCodeOf("CRM"); // "06"
 * ```
 */
export function councilCodeOf(council: string): TissCouncilCode | undefined {
  if (typeof council !== "string") return undefined;
  if (Object.hasOwn(COUNCIL_SIGLA_BY_CODE, council)) return council as TissCouncilCode;
  if (council === "CRAS") return "01";
  const hit = Object.entries(COUNCIL_SIGLA_BY_CODE).find(([, sigla]) => sigla === council);
  return hit?.[0] as TissCouncilCode | undefined;
}

/** A `dm_CBOS` code: one of the CBO-S occupations the schema enumerates. */
export type TissCboCode = (typeof TISS_CBOS_CODES)[number];

/** `dm_CBOS`: the CBO-S codes the schema accepts (169 distinct codes; the schema lists two of them twice). */
export const TISS_CBOS_CODES = CBOS_CODES;

/** Field formats of TISS 4.01.00 that the guide validates. */
export const TISS_FORMATS = Object.freeze({
  /** `numeroGuiaPrestador` (the guide id) and `numeroGuiaOperadora`: up to 20 characters. */
  guideNumberMaxLength: 20,
  /** `numeroCarteira`: up to 20 characters. */
  cardNumberMaxLength: 20,
  /** `codigoPrestadorNaOperadora`: up to 14 characters. */
  providerCodeMaxLength: 14,
  /** `senha`: up to 20 characters. */
  senhaMaxLength: 20,
  /** `codValidacao`: 1 to 10 characters. */
  codValidacaoMaxLength: 10,
  /** `codigoProcedimento` (`st_texto10`): 1 to 10 characters. */
  procedureCodeMaxLength: 10,
  /** Quantities (`st_numerico3`): at most 999. */
  quantityMax: 999,
  /** `numeroLote`: up to 12 characters. */
  batchIdMaxLength: 12,
  /** CNS (Cartão Nacional de Saúde): 15 digits. */
  cns: /^\d{15}$/,
  /** CBO-S occupation: 6 digits (and one of {@link TISS_CBOS_CODES}). */
  cbo: /^\d{6}$/,
  /** TUSS procedure (table 22): 8 digits. */
  tuss: /^\d{8}$/,
  /** Glosa / message code (table 38): 4 digits. */
  glosa: /^\d{4}$/,
});

const CPF_RE = /^(?:\d{11}|\d{3}\.\d{3}\.\d{3}-\d{2})$/;

/**
 * Whether `value` is a CPF with valid check digits: 11 digits, bare (`12345678909`) or punctuated
 * (`123.456.789-09`). Both mod-11 check digits must match, and CPFs of one repeated digit
 * (`111.111.111-11`) are refused although their check digits compute.
 *
 * @example
 * ```ts
 * isValidCpf("111.111.111-11"); // false: one repeated digit
 * isValidCpf("12345678900"); // false: wrong check digits
 * ```
 */
export function isValidCpf(value: string): boolean {
  if (typeof value !== "string" || !CPF_RE.test(value)) return false;
  const digits = value.replace(/\D/g, "");
  if (/^(\d)\1{10}$/.test(digits)) return false;
  const d = Array.from(digits, Number);
  for (const n of [9, 10]) {
    let sum = 0;
    for (let i = 0; i < n; i++) sum += d[i]! * (n + 1 - i);
    const check = ((sum * 10) % 11) % 10;
    if (check !== d[n]) return false;
  }
  return true;
}

/**
 * A CPF's 11 digits without punctuation (the input is assumed valid; see {@link isValidCpf}).
 *
 * @example
 * ```ts
 * if (isValidCpf(input)) normalizeCpf("529.982.247-25"); // "52998224725"
 * ```
 */
export function normalizeCpf(value: string): string {
  argString(value, "value");
  return value.replace(/\D/g, "");
}

/**
 * Whether `value` is a CNS (Cartão Nacional de Saúde): 15 digits starting with 1 or 2 (definitive) or 7, 8
 * or 9 (provisional), whose digits weighted 15 down to 1 sum to a multiple of 11.
 *
 * @example
 * ```ts
 * isValidCns("898001160660001"); // true
 * isValidCns("123456789012345"); // false: the weighted sum is not a multiple of 11
 * ```
 */
export function isValidCns(value: string): boolean {
  if (typeof value !== "string" || !TISS_FORMATS.cns.test(value) || !/^[12789]/.test(value)) return false;
  let sum = 0;
  for (let i = 0; i < 15; i++) sum += Number(value[i]) * (15 - i);
  return sum % 11 === 0;
}

/**
 * Whether `value` is a CBO-S code the TISS schema accepts (`dm_CBOS`, an enumeration: not any 6 digits).
 *
 * @example
 * ```ts
 * isValidCbo("225125"); // true: médico clínico
 * isValidCbo("123456"); // false
 * ```
 */
export function isValidCbo(value: string): value is TissCboCode {
  return typeof value === "string" && (CBOS_CODES as readonly string[]).includes(value);
}

/**
 * The calendar date (`YYYY-MM-DD`, `xs:date`) in America/Sao_Paulo (UTC−03:00, no daylight saving time since
 * 2019) of the instant `atMs`: what TISS wants in `dataAutorizacao`, `dataAtendimento` and `dataExecucao`. A
 * naive UTC date is one day late from 21:00 to 23:59 Brasília time.
 *
 * @throws InvalidArgumentError when `atMs` is not a non-negative integer
 * @example
 * ```ts
 * toSaoPauloDate(Date.UTC(2026, 10, 24, 1, 30)); // "2026-11-23": 22:30 in Brasília
 * ```
 */
export function toSaoPauloDate(atMs: number): string {
  if (typeof atMs !== "number" || !Number.isSafeInteger(atMs) || atMs < 0) {
    throw new InvalidArgumentError("atMs must be a non-negative integer of milliseconds", [
      { path: "atMs", message: "must be a non-negative integer of milliseconds" },
    ]);
  }
  return new Date(saoPauloDayOf(atMs) * DAY_MS).toISOString().slice(0, 10);
}

/**
 * Whether `value` has the TUSS procedure format (table 22, 8 digits).
 *
 * @example
 * ```ts
 * isValidTuss("10101012"); // true: consulta em consultório
 * isValidTuss("1010101");  // false: 7 digits
 * ```
 */
export function isValidTuss(value: string): boolean {
  return typeof value === "string" && TISS_FORMATS.tuss.test(value);
}

/**
 * The TUSS table 23 code of a guide's character: `eletiva` → `1`, `urgencia` → `2`.
 *
 * @example
 * ```ts
 * toTissCharacter("eletiva");  // "1"
 * toTissCharacter("urgencia"); // "2"
 * ```
 */
export function toTissCharacter(character: GuideCharacter): TissCharacterCode {
  return character === "urgencia" ? "2" : "1";
}

/**
 * The TISS `statusSolicitacao` (table 45) of a guide: what the operator decided about the request.
 * The code is a one-character string, as `dm_statusSolicitacao` wants: `requested` and `under_review` are
 * `"2"`, `awaiting_justification` `"4"`, `awaiting_documents` `"5"`, `authorized` `"1"`, `partially_authorized`
 * `"7"`, `denied` `"3"`, `cancelled` `"6"`. After execution (`confirmed` to `appealed`) the request stays
 * authorized: `"1"`, or `"7"` when it was authorized partially. `expired` has no TISS code: `undefined`.
 *
 * @example
 * ```ts
 * toTissStatus(transition(guide, { type: "request_documents" }, { nowMs })); // "5"
 * ```
 */
export function toTissStatus(guide: Guide): TissStatusCode | undefined {
  argObject(guide, "guide");
  switch (guide.state) {
    case "requested":
    case "under_review":
      return "2";
    case "awaiting_justification":
      return "4";
    case "awaiting_documents":
      return "5";
    case "authorized":
      return "1";
    case "partially_authorized":
      return "7";
    case "denied":
      return "3";
    case "cancelled":
      return "6";
    case "confirmed":
    case "billed":
    case "paid":
    case "disallowed":
    case "appealed":
      return guide.authorization?.partial ? "7" : "1";
    case "expired":
      return undefined;
  }
}

/**
 * The TISS validation field of a confirmed guide: `{ codValidacao }` (the code of the receipt it was
 * confirmed with) or `{ ausenciaCodValidacao }` (the table 74 reason), exactly one of them. `undefined`
 * before confirmation and, always, for a `honorarios` guide (TISS has no token field there).
 *
 * @example
 * ```ts
 * toTissValidation(confirmed); // { codValidacao: "123456" }
 * ```
 */
export function toTissValidation(
  guide: Guide,
): { codValidacao: string } | { ausenciaCodValidacao: AbsenceReasonCode } | undefined {
  argObject(guide, "guide");
  if (guide.type === "honorarios") return undefined;
  const c = guide.confirmation;
  if (c?.kind === "token") return { codValidacao: c.codValidacao };
  if (c?.kind === "absence") return { ausenciaCodValidacao: c.reason };
  return undefined;
}

/** Options of {@link isReturnVisit}. */
export interface ReturnVisitOptions {
  /** Calendar days (America/Sao_Paulo) within which a consultation counts as a return (default 30, 0–365). */
  readonly windowDays?: number | undefined;
  /** The moment of this attendance (ms); defaults to the guide's confirmation time. */
  readonly atMs?: number | undefined;
}

/**
 * Whether `guide` is a return visit (`tipoConsulta` 2, table 52): a consultation (`type: "consulta"`) of
 * the same beneficiary (card number) at the same provider (code), attended no more than `windowDays`
 * calendar days earlier in America/Sao_Paulo (same day included, day `windowDays` included), is among
 * `previousGuides`. A previous guide counts when it was confirmed and not cancelled afterwards; its
 * attendance time is its confirmation time. `guide` itself (same id) is ignored in the list.
 *
 * @throws InvalidArgumentError when `windowDays` is out of range, or when `guide` is not confirmed and no
 *   `atMs` is given.
 * @example
 * ```ts
 * const tipoConsulta = isReturnVisit(guide, history, { atMs: nowMs }) ? "2" : "1";
 * ```
 */
export function isReturnVisit(
  guide: Guide,
  previousGuides: readonly Guide[],
  options: ReturnVisitOptions = {},
): boolean {
  argObject(guide, "guide");
  if (!Array.isArray(previousGuides)) argIterable(undefined, "previousGuides");
  for (const [i, g] of previousGuides.entries()) argObject(g, `previousGuides.${i}`);
  argObject(options, "options");
  const windowDays = options.windowDays ?? 30;
  if (!Number.isInteger(windowDays) || windowDays < 0 || windowDays > 365) {
    throw new InvalidArgumentError("windowDays must be an integer from 0 to 365", [
      { path: "windowDays", message: "must be an integer from 0 to 365" },
    ]);
  }
  const atMs = options.atMs ?? guide.confirmation?.atMs;
  if (atMs === undefined || !Number.isSafeInteger(atMs) || atMs < 0) {
    throw new InvalidArgumentError(
      "atMs is required (a non-negative integer) for a guide not yet confirmed",
      [{ path: "atMs", message: "required for a guide not yet confirmed; a non-negative integer" }],
    );
  }
  if (guide.type !== "consulta") return false;
  const day = saoPauloDayOf(atMs);
  return previousGuides.some((p) => {
    if (p.id === guide.id || p.type !== "consulta" || p.state === "cancelled") return false;
    if (p.provider.code !== guide.provider.code) return false;
    if (p.beneficiary.cardNumber !== guide.beneficiary.cardNumber) return false;
    const prevAt = p.confirmation?.atMs;
    if (prevAt === undefined || prevAt >= atMs) return false;
    const days = day - saoPauloDayOf(prevAt);
    return days <= windowDays;
  });
}
