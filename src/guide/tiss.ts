/**
 * The TISS vocabulary (ANS Padrão TISS 4.01.00) that the guide machine speaks: the domain tables as typed
 * constants, the field formats, and the mappings from a {@link Guide} to TISS fields.
 *
 * @module
 */
import { InvalidArgumentError } from "../errors.js";
import { saoPauloDayOf } from "./_dates.js";
import type { Guide, GuideCharacter } from "./states.js";

/** The TISS version whose tables this module follows. */
export const TISS_VERSION = "4.01.00";

/** A code of TUSS table 74 (`ausenciaCodValidacao`). */
export type AbsenceReasonCode = "01" | "02" | "03" | "04" | "05" | "06" | "07";

/** TUSS table 74: why a guide carries no token (`ausenciaCodValidacao`). */
export const TISS_ABSENCE_REASONS: Readonly<Record<AbsenceReasonCode, string>> = Object.freeze({
  "01": "Beneficiário internado",
  "02": "Urgência/emergência",
  "03": "Instabilidade de sistemas, regularizado após a saída",
  "04": "Beneficiário se negou a informar o token",
  "05": "Coleta domiciliar",
  "06": "Material enviado por terceiros",
  "07": "Beneficiário não possui celular",
});

/** A code of TUSS table 45 (`dm_statusSolicitacao`). */
export type TissStatusCode = 1 | 2 | 3 | 4 | 5 | 6 | 7;

/** TUSS table 45: the status of an authorization request (`statusSolicitacao`). */
export const TISS_REQUEST_STATUS: Readonly<Record<TissStatusCode, string>> = Object.freeze({
  1: "Autorizado",
  2: "Em análise",
  3: "Negado",
  4: "Aguardando justificativa técnica do solicitante",
  5: "Aguardando documentação do prestador",
  6: "Solicitação cancelada",
  7: "Autorizado parcialmente",
});

/** A code of TUSS table 23 (`caraterAtendimento`). */
export type TissCharacterCode = "1" | "2";

/** TUSS table 23: the character of the attendance. */
export const TISS_CHARACTER: Readonly<Record<TissCharacterCode, string>> = Object.freeze({
  "1": "Eletiva",
  "2": "Urgência/Emergência",
});

/** A code of TUSS table 52 (`tipoConsulta`). */
export type TissConsultationTypeCode = "1" | "2" | "3" | "4";

/** TUSS table 52: the type of a consultation. `2` is what {@link isReturnVisit} detects. */
export const TISS_CONSULTATION_TYPE: Readonly<Record<TissConsultationTypeCode, string>> = Object.freeze({
  "1": "Primeira consulta",
  "2": "Seguimento",
  "3": "Pré-natal",
  "4": "Por encaminhamento",
});

/** Glosa (TUSS table 38) for an invalid token: what an operator returns when `codValidacao` does not check. */
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

/**
 * The IBGE code of every UF, which TISS uses for the council's state (`UF` in table 59). The first digit is the
 * region: 1 North, 2 Northeast, 3 Southeast, 4 South, 5 Center-West.
 */
export const UF_IBGE_CODES: Readonly<Record<Uf, string>> = Object.freeze({
  RO: "11",
  AC: "12",
  AM: "13",
  RR: "14",
  PA: "15",
  AP: "16",
  TO: "17",
  MA: "21",
  PI: "22",
  CE: "23",
  RN: "24",
  PB: "25",
  PE: "26",
  AL: "27",
  SE: "28",
  BA: "29",
  MG: "31",
  ES: "32",
  RJ: "33",
  SP: "35",
  PR: "41",
  SC: "42",
  RS: "43",
  MS: "50",
  MT: "51",
  GO: "52",
  DF: "53",
});

/**
 * The IBGE code of a UF (`PR` → `41`), or `undefined` for anything that is not one of the 27 abbreviations
 * (upper case only).
 *
 * @example
 * ```ts
 * ibgeCodeOfUf("PR"); // "41"
 * ```
 */
export function ibgeCodeOfUf(uf: string): string | undefined {
  return Object.hasOwn(UF_IBGE_CODES, uf) ? UF_IBGE_CODES[uf as Uf] : undefined;
}

/** The professional councils of TISS table 26, by sigla (`OUT`: any other council). */
export const PROFESSIONAL_COUNCILS = [
  "CRAS",
  "COREN",
  "CRF",
  "CRFA",
  "CREFITO",
  "CRM",
  "CRN",
  "CRO",
  "CRP",
  "OUT",
] as const;

/** A professional council sigla. */
export type ProfessionalCouncil = (typeof PROFESSIONAL_COUNCILS)[number];

/** Field formats of TISS 4.01.00 that the guide validates. */
export const TISS_FORMATS = Object.freeze({
  /** `numeroCarteira`: up to 20 characters. */
  cardNumberMaxLength: 20,
  /** `codigoPrestadorNaOperadora`: up to 14 characters. */
  providerCodeMaxLength: 14,
  /** `senha`: up to 20 characters. */
  senhaMaxLength: 20,
  /** `codValidacao`: 1 to 10 characters. */
  codValidacaoMaxLength: 10,
  /** `numeroLote`: up to 12 characters. */
  batchIdMaxLength: 12,
  /** CNS (Cartão Nacional de Saúde): 15 digits. */
  cns: /^\d{15}$/,
  /** CBO-S occupation: 6 digits. */
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

/** A CPF's 11 digits without punctuation (the input is assumed valid; see {@link isValidCpf}). */
export function normalizeCpf(value: string): string {
  return value.replace(/\D/g, "");
}

/**
 * Whether `value` is a CNS (Cartão Nacional de Saúde): 15 digits starting with 1 or 2 (definitive) or 7, 8
 * or 9 (provisional), whose digits weighted 15 down to 1 sum to a multiple of 11.
 */
export function isValidCns(value: string): boolean {
  if (typeof value !== "string" || !TISS_FORMATS.cns.test(value) || !/^[12789]/.test(value)) return false;
  let sum = 0;
  for (let i = 0; i < 15; i++) sum += Number(value[i]) * (15 - i);
  return sum % 11 === 0;
}

/** Whether `value` has the CBO-S format (6 digits). */
export function isValidCbo(value: string): boolean {
  return typeof value === "string" && TISS_FORMATS.cbo.test(value);
}

/** Whether `value` has the TUSS procedure format (table 22, 8 digits). */
export function isValidTuss(value: string): boolean {
  return typeof value === "string" && TISS_FORMATS.tuss.test(value);
}

/** The TUSS table 23 code of a guide's character: `eletiva` → `1`, `urgencia` → `2`. */
export function toTissCharacter(character: GuideCharacter): TissCharacterCode {
  return character === "urgencia" ? "2" : "1";
}

/**
 * The TISS `statusSolicitacao` (table 45) of a guide: what the operator decided about the request.
 * `requested` and `under_review` are 2, `awaiting_justification` 4, `awaiting_documents` 5, `authorized` 1,
 * `partially_authorized` 7, `denied` 3, `cancelled` 6. After execution (`confirmed` to `appealed`) the
 * request stays authorized: 1, or 7 when it was authorized partially. `expired` has no TISS code: `undefined`.
 *
 * @example
 * ```ts
 * toTissStatus(transition(guide, { type: "request_documents" }, { nowMs })); // 5
 * ```
 */
export function toTissStatus(guide: Guide): TissStatusCode | undefined {
  switch (guide.state) {
    case "requested":
    case "under_review":
      return 2;
    case "awaiting_justification":
      return 4;
    case "awaiting_documents":
      return 5;
    case "authorized":
      return 1;
    case "partially_authorized":
      return 7;
    case "denied":
      return 3;
    case "cancelled":
      return 6;
    case "confirmed":
    case "billed":
    case "paid":
    case "disallowed":
    case "appealed":
      return guide.authorization?.partial ? 7 : 1;
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
  if (guide.type === "honorarios") return undefined;
  const c = guide.confirmation;
  if (c?.kind === "token") return { codValidacao: c.codValidacao };
  if (c?.kind === "absence") return { ausenciaCodValidacao: c.reason };
  return undefined;
}

/** Options of {@link isReturnVisit}. */
export interface ReturnVisitOptions {
  /** Calendar days (America/Sao_Paulo) within which a consultation counts as a return (default 30, 0–365). */
  readonly windowDays?: number;
  /** The moment of this attendance (ms); defaults to the guide's confirmation time. */
  readonly atMs?: number;
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
