/**
 * `health-token/tiss`: the guide in ANS TISS 4.01.00 terms. The fields a guide owns in XSD element names
 * ({@link toTissGuideFields}), XML for `guiaConsulta`, `guiaSP-SADT` and its `ct_autorizacaoSADT`, and a whole
 * `mensagemTISS` in ISO-8859-1 with its `epilogo/hash`; every value is checked against the schema's formats and
 * enumerations first ({@link TissFieldError}). Also the generated tables only this entry needs: glosas
 * (`dm_tipoGlosa`), CBO-S labels, council and UF names.
 *
 * @example
 * ```ts
 * import { buildMensagemTiss, toTissGuideFields } from "health-token/tiss";
 * const { bytes, hash } = buildMensagemTiss(confirmedGuide, data);
 * ```
 *
 * @module
 */
export { toSaoPauloDate } from "../guide/tiss.js";
export {
  CBOS_LABELS as TISS_CBOS_LABELS,
  COUNCIL_NAMES as TISS_COUNCIL_NAMES,
  GLOSAS as TISS_GLOSAS,
  UF_NAMES as TISS_UF_NAMES,
} from "./_labels.generated.js";
export { TISS_NAMESPACE } from "./_xml.js";
export {
  buildAutorizacaoSadt,
  buildGuiaConsulta,
  buildGuiaSpSadt,
  buildMensagemTiss,
  type TissMessage,
} from "./build.js";
export {
  TISS_ACCIDENT_CODES,
  TISS_ATTENDANCE_TYPE_CODES,
  TISS_REGIME_CODES,
  type TissAccidentCode,
  type TissAttendanceTypeCode,
  type TissConsultaData,
  type TissGuideDataBase,
  type TissMessageData,
  type TissRegimeCode,
  type TissSpSadtData,
  type TissSpSadtProcedureData,
} from "./data.js";
export { TissFieldError, type TissFieldIssue } from "./errors.js";
export {
  TISS_GUIDE_ELEMENTS,
  type TissGuideElement,
  type TissGuideFields,
  type TissProcedureFields,
  toTissGuideFields,
} from "./fields.js";
