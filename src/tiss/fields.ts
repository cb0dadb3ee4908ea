/**
 * `toTissGuideFields`: every TISS field a guide owns, named and typed as the ANS TISS 4.01.00 schema has them.
 *
 * @module
 */
import { guideSchema, parseOrThrow } from "../guide/schemas.js";
import type { Guide, GuideType } from "../guide/states.js";
import { toSaoPauloDate, toTissCharacter, toTissValidation } from "../guide/tiss.js";

/** The guide element of `guiasTISS` that carries each guide type. */
export const TISS_GUIDE_ELEMENTS = Object.freeze({
  consulta: "guiaConsulta",
  sp_sadt: "guiaSP-SADT",
  internacao: "guiaResumoInternacao",
  odonto: "guiaOdonto",
  honorarios: "guiaHonorarios",
} as const);

/** A guide element of `guiasTISS`. */
export type TissGuideElement = (typeof TISS_GUIDE_ELEMENTS)[GuideType];

/** One procedure's TISS fields. */
export interface TissProcedureFields {
  /** `dm_tabela`, such as `22`. */
  readonly codigoTabela: string;
  /** `st_texto10`. */
  readonly codigoProcedimento: string;
  /** `st_numerico3`, as text; absent on a `guiaConsulta` (one procedure, no quantity). */
  readonly quantidade?: string;
  /** The São Paulo date of execution (`dataExecucao`) once confirmed; SP/SADT only. */
  readonly dataExecucao?: string;
}

/** What {@link toTissGuideFields} returns. */
export interface TissGuideFields {
  /** The guide's element in `guiasTISS`. */
  readonly guia: TissGuideElement;
  /** Every field the guide owns, XSD element name → XSD value (a string), in the XSD's order. */
  readonly fields: Readonly<Record<string, string>>;
  /** The procedures, in guide order. */
  readonly procedimentos: readonly TissProcedureFields[];
}

/**
 * Every TISS field that the library owns for `guide`, in XSD element names and XSD value formats (strings),
 * for the guide's type and in the XSD's order. A field is present only where the guide's TISS element has it:
 * a `guiaConsulta` has no `senha`, `dataAutorizacao` or `dataValidadeSenha` (its authorization number is
 * `numeroGuiaOperadora`); a `guiaHonorarios` has no token field. Dates are São Paulo calendar dates
 * (`dataAutorizacao` from the authorization, `dataAtendimento`/`dataExecucao` from the confirmation). A guide
 * stored with a council sigla or a UF sigla (before they became codes) comes out with the codes.
 *
 * @throws InvalidArgumentError when `guide` is not a valid guide
 * @example
 * ```ts
 * toTissGuideFields(confirmed).fields;
 * // { numeroGuiaPrestador: "G-0001", numeroGuiaOperadora: "OP-77", codValidacao: "482913", numeroCarteira: …, conselhoProfissional: "06", UF: "41", … }
 * ```
 */
export function toTissGuideFields(guide: Guide): TissGuideFields {
  const g = parseOrThrow(guideSchema, guide, "guide", "guide") as Guide;
  const a = g.authorization;
  const validation = toTissValidation(g);
  const v = {
    ausenciaCodValidacao:
      validation && "ausenciaCodValidacao" in validation ? validation.ausenciaCodValidacao : undefined,
    codValidacao: validation && "codValidacao" in validation ? validation.codValidacao : undefined,
  };
  const dataAutorizacao = a ? toSaoPauloDate(a.atMs) : undefined;
  const done = g.confirmation ? toSaoPauloDate(g.confirmation.atMs) : undefined;
  const p = g.provider.professional;
  const professional = {
    conselhoProfissional: p?.council,
    numeroConselhoProfissional: p?.number,
    UF: p?.uf,
    CBOS: p?.cbo,
  };
  const card = g.beneficiary.cardNumber;
  let fields: Record<string, string | undefined>;
  switch (g.type) {
    case "consulta":
      fields = {
        numeroGuiaPrestador: g.id,
        numeroGuiaOperadora: a?.numeroGuiaOperadora,
        ...v,
        numeroCarteira: card,
        codigoPrestadorNaOperadora: g.provider.code,
        ...professional,
        dataAtendimento: done,
      };
      break;
    case "sp_sadt":
    case "internacao":
      fields = {
        numeroGuiaPrestador: g.id,
        numeroGuiaOperadora: a?.numeroGuiaOperadora,
        dataAutorizacao,
        senha: a?.senha,
        dataValidadeSenha: a?.validUntil,
        ...v,
        numeroCarteira: card,
        ...(g.type === "sp_sadt" ? professional : {}),
        caraterAtendimento: toTissCharacter(g.character),
        codigoPrestadorNaOperadora: g.provider.code,
      };
      break;
    case "odonto":
      fields = {
        numeroGuiaPrestador: g.id,
        dataAutorizacao,
        senhaAutorizacao: a?.senha,
        validadeSenha: a?.validUntil,
        numeroGuiaOperadora: a?.numeroGuiaOperadora,
        ...v,
        numeroCarteira: card,
      };
      break;
    case "honorarios":
      fields = {
        numeroGuiaPrestador: g.id,
        senha: a?.senha,
        numeroGuiaOperadora: a?.numeroGuiaOperadora,
        numeroCarteira: card,
        codigoNaOperadora: g.provider.code,
      };
      break;
  }
  const defined = Object.fromEntries(Object.entries(fields).filter(([, x]) => x !== undefined)) as Record<
    string,
    string
  >;
  const procedimentos = g.procedures.map((pr): TissProcedureFields => {
    const base = { codigoTabela: pr.table, codigoProcedimento: pr.tuss };
    if (g.type === "consulta") return base;
    const quantity = { quantidade: String(pr.quantity) };
    return g.type === "sp_sadt" && done
      ? { ...base, ...quantity, dataExecucao: done }
      : { ...base, ...quantity };
  });
  return { guia: TISS_GUIDE_ELEMENTS[g.type], fields: defined, procedimentos };
}
