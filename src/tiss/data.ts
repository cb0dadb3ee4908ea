/**
 * What the caller supplies for a TISS document (the data the library does not hold), typed and validated
 * against the TISS 4.01.00 formats before any XML is written.
 *
 * @module
 */
import { z } from "zod";
import type { GuideProfessionalInput } from "../guide/states.js";
import type { TissConsultationTypeCode, TissIdentificationCode } from "../guide/tiss.js";
import { TISS_CONSULTATION_TYPE, TISS_IDENTIFICATION_TYPES } from "../guide/tiss.js";
import {
  INDICADOR_ACIDENTE_CODES,
  REGIME_ATENDIMENTO_CODES,
  SIM_NAO_CODES,
  TIPO_ATENDIMENTO_CODES,
} from "./_labels.generated.js";

/** `dm_indicadorAcidente`: 0 trabalho, 1 trânsito, 2 outros acidentes, 9 não acidente. */
export const TISS_ACCIDENT_CODES = INDICADOR_ACIDENTE_CODES;
/** A `dm_indicadorAcidente` code. */
export type TissAccidentCode = (typeof TISS_ACCIDENT_CODES)[number];
/** `dm_regimeAtendimento`: 01 ambulatorial, 02 domiciliar, 03 internação, 04 pronto-socorro, 05 telessaúde. */
export const TISS_REGIME_CODES = REGIME_ATENDIMENTO_CODES;
/** A `dm_regimeAtendimento` code. */
export type TissRegimeCode = (typeof TISS_REGIME_CODES)[number];
/** `dm_tipoAtendimento` (table 50): 04 consulta, 13 pequenos atendimentos, and the others of the schema. */
export const TISS_ATTENDANCE_TYPE_CODES = TIPO_ATENDIMENTO_CODES;
/** A `dm_tipoAtendimento` code. */
export type TissAttendanceTypeCode = (typeof TISS_ATTENDANCE_TYPE_CODES)[number];

/** Fields every guide document needs from the caller. */
export interface TissGuideDataBase {
  /** The operator's ANS registration (`registroANS`, 6 digits). */
  readonly registroANS: string;
  /** The executing provider's CNES (`st_texto7`). */
  readonly CNES: string;
  /** `indicacaoAcidente` (`dm_indicadorAcidente`). */
  readonly indicacaoAcidente: TissAccidentCode;
  /** `regimeAtendimento` (`dm_regimeAtendimento`). */
  readonly regimeAtendimento: TissRegimeCode;
  /** `atendimentoRN`: a newborn attended on the parent's card; default `N`. */
  readonly atendimentoRN?: "S" | "N" | undefined;
  /** `tipoIdent` (table 72): how the beneficiary was identified. */
  readonly tipoIdent?: TissIdentificationCode | undefined;
  /** `observacao` (up to 500 characters). */
  readonly observacao?: string | undefined;
}

/** What a `guiaConsulta` needs besides the guide. */
export interface TissConsultaData extends TissGuideDataBase {
  /** `tipoConsulta` (table 52); see `isReturnVisit` for `2`. */
  readonly tipoConsulta: TissConsultationTypeCode;
  /** `valorProcedimento` in reais (`st_decimal8-2`: at most 2 decimals, below 1 000 000). */
  readonly valorProcedimento: number;
  /** `nomeProfissional` of the executing professional (up to 70 characters). */
  readonly nomeProfissional?: string | undefined;
}

/** One executed procedure's values, in the guide's procedure order. */
export interface TissSpSadtProcedureData {
  /** `descricaoProcedimento` (up to 150 characters). */
  readonly descricaoProcedimento: string;
  /** `valorUnitario` in reais (`st_decimal8-2`). */
  readonly valorUnitario: number;
  /** `reducaoAcrescimo` factor (`st_decimal3-2`), default 1.00. */
  readonly reducaoAcrescimo?: number | undefined;
}

/** What a `guiaSP-SADT` needs besides the guide. */
export interface TissSpSadtData extends TissGuideDataBase {
  /** `tipoAtendimento` (`dm_tipoAtendimento`). */
  readonly tipoAtendimento: TissAttendanceTypeCode;
  /** `tipoConsulta` (table 52), when the attendance is a consultation. */
  readonly tipoConsulta?: TissConsultationTypeCode | undefined;
  /** `nomeContratadoSolicitante` (up to 70 characters). */
  readonly nomeContratadoSolicitante: string;
  /** `contratadoSolicitante/codigoPrestadorNaOperadora`; default the guide's provider code. */
  readonly codigoPrestadorSolicitante?: string | undefined;
  /** `profissionalSolicitante`; default the guide's professional. */
  readonly profissionalSolicitante?:
    | (GuideProfessionalInput & { readonly nomeProfissional?: string | undefined })
    | undefined;
  /** `dataSolicitacao`, `YYYY-MM-DD`. */
  readonly dataSolicitacao?: string | undefined;
  /** `indicacaoClinica` (up to 500 characters). */
  readonly indicacaoClinica?: string | undefined;
  /** One entry per guide procedure, same order. */
  readonly procedimentos: readonly TissSpSadtProcedureData[];
}

/** What a whole `mensagemTISS` (`ENVIO_LOTE_GUIAS`) needs besides the guide. */
export interface TissMessageData {
  /** `sequencialTransacao` (up to 12 characters). */
  readonly sequencialTransacao: string;
  /** When the transaction is registered (ms): `dataRegistroTransacao`/`horaRegistroTransacao`, São Paulo time. */
  readonly registeredAtMs: number;
  /** `numeroLote` (up to 12 characters); default the guide's `billing.batchId`. */
  readonly numeroLote?: string | undefined;
  /** The guide's data: {@link TissConsultaData} for a consulta, {@link TissSpSadtData} for an SP/SADT. */
  readonly guia: TissConsultaData | TissSpSadtData;
}

const required = (what: string) => ({
  error: (issue: { input: unknown }) =>
    issue.input === undefined ? `${what} is required` : `${what} has an invalid value`,
});
const text = (max: number, what: string) =>
  z
    .string(required(what))
    .min(1, { error: `${what} must not be empty` })
    .max(max, { error: `${what} must have at most ${max} characters` })
    .regex(/\S/, { error: `${what} must not be blank` });
const oneOf = (values: readonly string[], what: string) =>
  z.enum(values as [string, ...string[]], {
    error: (issue) =>
      issue.input === undefined ? `${what} is required` : `${what} must be one of ${values.join(", ")}`,
  });
/**
 * The digits `xs:decimal` counts for `totalDigits` in a value of `cents` hundredths: the integer part's digits
 * plus the fraction's digits without trailing zeros (`1000000.00` has 7, `0.50` has 1).
 */
export function decimalDigits(cents: number): number {
  const integer = Math.floor(cents / 100);
  const frac = cents % 100;
  const fracDigits = frac === 0 ? 0 : frac % 10 === 0 ? 1 : 2;
  return (integer === 0 ? 0 : String(integer).length) + fracDigits;
}

/** A non-negative decimal with at most 2 fraction digits and at most `totalDigits` digits (`st_decimalN-2`). */
export const decimal = (totalDigits: number, what: string) =>
  z
    .number(required(what))
    .refine((n) => Number.isFinite(n) && n >= 0, { error: `${what} must be a non-negative number` })
    .refine((n) => Math.abs(n * 100 - Math.round(n * 100)) < 1e-6, {
      error: `${what} has more than 2 decimals`,
    })
    .refine((n) => decimalDigits(Math.round(n * 100)) <= totalDigits, {
      error: `${what} must have at most ${totalDigits} digits`,
    });
const date = (what: string) =>
  z.string(required(what)).regex(/^\d{4}-\d{2}-\d{2}$/, { error: `${what} must be a date, YYYY-MM-DD` });

const base = {
  registroANS: z
    .string(required("registroANS"))
    .regex(/^\d{6}$/, { error: "registroANS must have 6 digits" }),
  CNES: text(7, "CNES"),
  indicacaoAcidente: oneOf(INDICADOR_ACIDENTE_CODES, "indicacaoAcidente"),
  regimeAtendimento: oneOf(REGIME_ATENDIMENTO_CODES, "regimeAtendimento"),
  atendimentoRN: oneOf(SIM_NAO_CODES, "atendimentoRN").optional(),
  tipoIdent: oneOf(Object.keys(TISS_IDENTIFICATION_TYPES), "tipoIdent").optional(),
  observacao: text(500, "observacao").optional(),
};

/** The schema of {@link TissConsultaData}. */
export const tissConsultaDataSchema = z.strictObject({
  ...base,
  tipoConsulta: oneOf(Object.keys(TISS_CONSULTATION_TYPE), "tipoConsulta"),
  valorProcedimento: decimal(8, "valorProcedimento"),
  nomeProfissional: text(70, "nomeProfissional").optional(),
});

/** The schema of {@link TissSpSadtData} (the requesting professional is checked by the guide's own schema). */
export const tissSpSadtDataSchema = z.strictObject({
  ...base,
  tipoAtendimento: oneOf(TIPO_ATENDIMENTO_CODES, "tipoAtendimento"),
  tipoConsulta: oneOf(Object.keys(TISS_CONSULTATION_TYPE), "tipoConsulta").optional(),
  nomeContratadoSolicitante: text(70, "nomeContratadoSolicitante"),
  codigoPrestadorSolicitante: text(14, "codigoPrestadorSolicitante").optional(),
  profissionalSolicitante: z.record(z.string(), z.unknown()).optional(),
  dataSolicitacao: date("dataSolicitacao").optional(),
  indicacaoClinica: text(500, "indicacaoClinica").optional(),
  procedimentos: z
    .array(
      z.strictObject({
        descricaoProcedimento: text(150, "descricaoProcedimento"),
        valorUnitario: decimal(8, "valorUnitario"),
        reducaoAcrescimo: decimal(3, "reducaoAcrescimo").optional(),
      }),
      required("procedimentos"),
    )
    .min(1, { error: "procedimentos must list the guide's procedures" }),
});

/** The schema of {@link TissMessageData} without its `guia` (checked by the guide type's schema). */
export const tissMessageDataSchema = z.strictObject({
  sequencialTransacao: text(12, "sequencialTransacao"),
  registeredAtMs: z.int(required("registeredAtMs")).min(0, { error: "registeredAtMs must not be negative" }),
  numeroLote: text(12, "numeroLote").optional(),
  guia: z.record(z.string(), z.unknown(), required("guia")),
});
