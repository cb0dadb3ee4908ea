/**
 * XML builders for the validation-bearing parts of TISS 4.01.00: `guiaConsulta`, `guiaSP-SADT` with its
 * `dadosAutorizacao` (`ct_autorizacaoSADT`), and a whole `mensagemTISS` (`ENVIO_LOTE_GUIAS`, one `loteGuias`)
 * in ISO-8859-1 with its `epilogo/hash`.
 *
 * @module
 */
import type { z } from "zod";
import { DAY_MS } from "../guide/_dates.js";
import { guideSchema, parseOrThrow, toArgumentIssues } from "../guide/schemas.js";
import type { Guide, GuideProfessional } from "../guide/states.js";
import { councilCodeOf, ibgeCodeOfUf, isValidCbo, TISS_VERSION, toTissCharacter } from "../guide/tiss.js";
import {
  checkLatin1,
  el,
  latin1Bytes,
  leaf,
  opt,
  serialize,
  texts,
  tissHashOf,
  type XmlNode,
} from "./_xml.js";
import {
  decimalDigits,
  type TissConsultaData,
  type TissMessageData,
  type TissSpSadtData,
  tissConsultaDataSchema,
  tissMessageDataSchema,
  tissSpSadtDataSchema,
} from "./data.js";
import { TissFieldError, type TissFieldIssue } from "./errors.js";
import { toTissGuideFields } from "./fields.js";

function parse<S extends z.ZodType>(schema: S, value: unknown, prefix = ""): z.output<S> {
  const r = schema.safeParse(value);
  if (r.success) return r.data;
  throw new TissFieldError(toArgumentIssues(r.error, prefix));
}

const money = (n: number) => (Math.round(n * 100) / 100).toFixed(2);

function fail(issues: TissFieldIssue[]): void {
  if (issues.length > 0) throw new TissFieldError(issues);
}

/** The guide, checked as a guide (legacy sigla values become codes) and as a billable guide of `type`. */
function billable(guide: Guide, type: Guide["type"]) {
  const g = parseOrThrow(guideSchema, guide, "guide", "guide") as Guide;
  const issues: TissFieldIssue[] = [];
  if (g.type !== type) issues.push({ path: "type", message: `must be ${type} for this document` });
  if (!g.confirmation) {
    issues.push({
      path: "confirmation",
      message: "the guide must be confirmed (codValidacao or ausenciaCodValidacao)",
    });
  }
  fail(issues);
  return { g, f: toTissGuideFields(g) };
}

function professionalNode(
  name: string,
  p: GuideProfessional,
  nome: string | undefined,
  path: string,
): XmlNode {
  return el(
    name,
    opt("nomeProfissional", nome, `${path}.nomeProfissional`),
    leaf("conselhoProfissional", p.council, `${path}.conselhoProfissional`),
    leaf("numeroConselhoProfissional", p.number, `${path}.numeroConselhoProfissional`),
    leaf("UF", p.uf, `${path}.UF`),
    leaf("CBOS", p.cbo, `${path}.CBOS`),
  );
}

function beneficiaryNode(g: Guide, d: TissConsultaData | TissSpSadtData): XmlNode {
  return el(
    "dadosBeneficiario",
    leaf("numeroCarteira", g.beneficiary.cardNumber),
    leaf("atendimentoRN", d.atendimentoRN ?? "N"),
    opt("tipoIdent", d.tipoIdent),
  );
}

/** `ct_guiaCabecalho`: the operator's registration and the provider's guide number. */
function guideHeader(name: string, registroANS: string, numeroGuiaPrestador: string): XmlNode {
  return el(name, leaf("registroANS", registroANS), leaf("numeroGuiaPrestador", numeroGuiaPrestador));
}

function checked(node: XmlNode): XmlNode {
  fail(checkLatin1(node));
  return node;
}

function consultaNode(guide: Guide, data: TissConsultaData): XmlNode {
  const { g, f } = billable(guide, "consulta");
  const d = parse(tissConsultaDataSchema, data) as TissConsultaData;
  const p = g.provider.professional;
  if (!p) fail([{ path: "profissionalExecutante", message: "the guide names no professional" }]);
  const proc = f.procedimentos[0]!;
  return checked(
    el(
      "guiaConsulta",
      guideHeader("cabecalhoConsulta", d.registroANS, f.fields.numeroGuiaPrestador!),
      opt("numeroGuiaOperadora", f.fields.numeroGuiaOperadora),
      opt("ausenciaCodValidacao", f.fields.ausenciaCodValidacao),
      opt("codValidacao", f.fields.codValidacao),
      beneficiaryNode(g, d),
      el("contratadoExecutante", leaf("codigoPrestadorNaOperadora", g.provider.code), leaf("CNES", d.CNES)),
      professionalNode("profissionalExecutante", p!, d.nomeProfissional, "profissionalExecutante"),
      leaf("indicacaoAcidente", d.indicacaoAcidente),
      el(
        "dadosAtendimento",
        leaf("regimeAtendimento", d.regimeAtendimento),
        leaf("dataAtendimento", f.fields.dataAtendimento!),
        leaf("tipoConsulta", d.tipoConsulta),
        el(
          "procedimento",
          leaf("codigoTabela", proc.codigoTabela),
          leaf("codigoProcedimento", proc.codigoProcedimento),
          leaf("valorProcedimento", money(d.valorProcedimento)),
        ),
      ),
      opt("observacao", d.observacao),
    ),
  );
}

function autorizacaoSadtNode(guide: Guide): XmlNode {
  const g = parseOrThrow(guideSchema, guide, "guide", "guide") as Guide;
  const issues: TissFieldIssue[] = [];
  if (g.type !== "sp_sadt") issues.push({ path: "type", message: "must be sp_sadt for ct_autorizacaoSADT" });
  if (!g.authorization) issues.push({ path: "dataAutorizacao", message: "the guide is not authorized" });
  fail(issues);
  const f = toTissGuideFields(g).fields;
  return el(
    "dadosAutorizacao",
    opt("numeroGuiaOperadora", f.numeroGuiaOperadora),
    leaf("dataAutorizacao", f.dataAutorizacao!),
    opt("senha", f.senha),
    opt("dataValidadeSenha", f.dataValidadeSenha),
    opt("ausenciaCodValidacao", f.ausenciaCodValidacao),
    opt("codValidacao", f.codValidacao),
  );
}

function requestingProfessional(g: Guide, d: TissSpSadtData): GuideProfessional {
  const given = d.profissionalSolicitante;
  if (!given) {
    if (!g.provider.professional) {
      fail([{ path: "profissionalSolicitante", message: "required: the guide names no professional" }]);
    }
    return g.provider.professional!;
  }
  const issues: TissFieldIssue[] = [];
  const council = councilCodeOf(given.council);
  const uf = ibgeCodeOfUf(given.uf);
  if (!council)
    issues.push({
      path: "profissionalSolicitante.conselhoProfissional",
      message: "not a dm_conselhoProfissional code or sigla",
    });
  if (typeof given.number !== "string" || given.number.length < 1 || given.number.length > 15) {
    issues.push({
      path: "profissionalSolicitante.numeroConselhoProfissional",
      message: "1 to 15 characters",
    });
  }
  if (!uf) issues.push({ path: "profissionalSolicitante.UF", message: "not a dm_UF code or UF sigla" });
  if (!isValidCbo(given.cbo))
    issues.push({ path: "profissionalSolicitante.CBOS", message: "not a dm_CBOS code" });
  if (
    given.nomeProfissional !== undefined &&
    (typeof given.nomeProfissional !== "string" ||
      !/\S/.test(given.nomeProfissional) ||
      given.nomeProfissional.length > 70)
  ) {
    issues.push({ path: "profissionalSolicitante.nomeProfissional", message: "1 to 70 characters" });
  }
  fail(issues);
  return { council: council!, number: given.number, uf: uf!, cbo: given.cbo as GuideProfessional["cbo"] };
}

function spSadtNode(guide: Guide, data: TissSpSadtData): XmlNode {
  const { g, f } = billable(guide, "sp_sadt");
  const d = parse(tissSpSadtDataSchema, data) as unknown as TissSpSadtData;
  if (d.procedimentos.length !== f.procedimentos.length) {
    fail([
      {
        path: "procedimentos",
        message: `must have one entry per guide procedure (${f.procedimentos.length})`,
      },
    ]);
  }
  const solicitante = requestingProfessional(g, d);
  const issues: TissFieldIssue[] = [];
  let totalCents = 0;
  const executed = f.procedimentos.map((pr, i) => {
    const v = d.procedimentos[i]!;
    const factor = v.reducaoAcrescimo ?? 1;
    const cents = Math.round(Math.round(v.valorUnitario * 100) * Number(pr.quantidade) * factor);
    if (cents >= 10 ** 8)
      issues.push({ path: `procedimentos.${i}.valorTotal`, message: "above st_decimal8-2" });
    totalCents += cents;
    return el(
      "procedimentoExecutado",
      leaf("sequencialItem", String(i + 1)),
      leaf("dataExecucao", pr.dataExecucao!),
      el(
        "procedimento",
        leaf("codigoTabela", pr.codigoTabela),
        leaf("codigoProcedimento", pr.codigoProcedimento),
        leaf("descricaoProcedimento", v.descricaoProcedimento, `procedimentos.${i}.descricaoProcedimento`),
      ),
      leaf("quantidadeExecutada", pr.quantidade!),
      leaf("reducaoAcrescimo", money(factor)),
      leaf("valorUnitario", money(v.valorUnitario)),
      leaf("valorTotal", (cents / 100).toFixed(2)),
    );
  });
  if (decimalDigits(totalCents) > 10)
    issues.push({ path: "valorTotalGeral", message: "above st_decimal10-2" });
  fail(issues);
  const total = (totalCents / 100).toFixed(2);
  return checked(
    el(
      "guiaSP-SADT",
      guideHeader("cabecalhoGuia", d.registroANS, f.fields.numeroGuiaPrestador!),
      g.authorization ? autorizacaoSadtNode(g) : undefined,
      beneficiaryNode(g, d),
      el(
        "dadosSolicitante",
        el(
          "contratadoSolicitante",
          leaf("codigoPrestadorNaOperadora", d.codigoPrestadorSolicitante ?? g.provider.code),
        ),
        leaf("nomeContratadoSolicitante", d.nomeContratadoSolicitante),
        professionalNode(
          "profissionalSolicitante",
          solicitante,
          d.profissionalSolicitante?.nomeProfissional,
          "profissionalSolicitante",
        ),
      ),
      el(
        "dadosSolicitacao",
        opt("dataSolicitacao", d.dataSolicitacao),
        leaf("caraterAtendimento", toTissCharacter(g.character)),
        opt("indicacaoClinica", d.indicacaoClinica),
      ),
      el(
        "dadosExecutante",
        el("contratadoExecutante", leaf("codigoPrestadorNaOperadora", g.provider.code)),
        leaf("CNES", d.CNES),
      ),
      el(
        "dadosAtendimento",
        leaf("tipoAtendimento", d.tipoAtendimento),
        leaf("indicacaoAcidente", d.indicacaoAcidente),
        opt("tipoConsulta", d.tipoConsulta),
        leaf("regimeAtendimento", d.regimeAtendimento),
      ),
      el("procedimentosExecutados", ...executed),
      opt("observacao", d.observacao),
      el("valorTotal", leaf("valorProcedimentos", total), leaf("valorTotalGeral", total)),
    ),
  );
}

/**
 * The `guiaConsulta` element of a confirmed `consulta` guide, as XML text (the element declares the TISS
 * namespace, prefix `ans`). Carries `numeroGuiaOperadora`, and `codValidacao` or `ausenciaCodValidacao`;
 * never `senha` (the schema has none there). `dataAtendimento` is the São Paulo date of the confirmation.
 *
 * @throws TissFieldError naming every missing or invalid field (`registroANS`, `CNES`, `profissionalExecutante`, …)
 * @example
 * ```ts
 * const xml = buildGuiaConsulta(confirmed, {
 *   registroANS: "123456", CNES: "1234567", indicacaoAcidente: "9", regimeAtendimento: "01",
 *   tipoConsulta: "1", valorProcedimento: 150,
 * });
 * ```
 */
export function buildGuiaConsulta(guide: Guide, data: TissConsultaData): string {
  return serialize(consultaNode(guide, data), true);
}

/**
 * The `dadosAutorizacao` element (`ct_autorizacaoSADT`) of an authorized `sp_sadt` guide, as XML text:
 * `numeroGuiaOperadora`, `dataAutorizacao` (São Paulo date of the authorization; required by the schema),
 * `senha`, `dataValidadeSenha`, and, once confirmed, `ausenciaCodValidacao` or `codValidacao`.
 *
 * @throws TissFieldError when the guide is not an authorized SP/SADT guide
 * @example
 * ```ts
 * buildAutorizacaoSadt(authorized); // "<ans:dadosAutorizacao xmlns:ans=…>…<ans:dataAutorizacao>2026-11-23</ans:dataAutorizacao>…"
 * ```
 */
export function buildAutorizacaoSadt(guide: Guide): string {
  return serialize(checked(autorizacaoSadtNode(guide)), true);
}

/**
 * The `guiaSP-SADT` element of a confirmed `sp_sadt` guide, as XML text. Each guide procedure becomes a
 * `procedimentoExecutado` (executed on the São Paulo date of the confirmation) with the caller's description
 * and unit value; totals are computed in cents.
 *
 * @throws TissFieldError naming every missing or invalid field
 * @example
 * ```ts
 * const xml = buildGuiaSpSadt(confirmed, {
 *   registroANS: "123456", CNES: "1234567", indicacaoAcidente: "9", regimeAtendimento: "01",
 *   tipoAtendimento: "05", nomeContratadoSolicitante: "Clínica Demo",
 *   procedimentos: [{ descricaoProcedimento: "Hemograma", valorUnitario: 12.5 }],
 * });
 * ```
 */
export function buildGuiaSpSadt(guide: Guide, data: TissSpSadtData): string {
  return serialize(spSadtNode(guide, data), true);
}

/** A built `mensagemTISS`. */
export interface TissMessage {
  /** The document as text, with its `<?xml … encoding="ISO-8859-1"?>` declaration. */
  readonly xml: string;
  /** The document's bytes in ISO-8859-1: what to send or store. */
  readonly bytes: Uint8Array;
  /** The `epilogo/hash`: MD5, lower-case hex. */
  readonly hash: string;
}

const pad2 = (n: number) => String(n).padStart(2, "0");

/**
 * A whole `mensagemTISS` sending one confirmed guide (`guiaConsulta` or `guiaSP-SADT`) to the operator:
 * `ENVIO_LOTE_GUIAS` with one `loteGuias`, from the provider (`codigoPrestadorNaOperadora`) to the operator
 * (`registroANS`), `Padrao` 4.01.00, and the `epilogo/hash`: MD5 (lower-case hex) of the concatenated text of
 * every element in document order, the hash excluded, whitespace-only text ignored, over ISO-8859-1 bytes.
 * The registration date and time are São Paulo's at `registeredAtMs`. Every value is checked first: nothing
 * the schema refuses is written.
 *
 * @throws TissFieldError naming every missing or invalid field
 * @example
 * ```ts
 * const { bytes, hash } = buildMensagemTiss(confirmed, {
 *   sequencialTransacao: "1", registeredAtMs: clock.now(), numeroLote: "L000001",
 *   guia: { registroANS: "123456", CNES: "1234567", indicacaoAcidente: "9", regimeAtendimento: "01", tipoConsulta: "1", valorProcedimento: 150 },
 * });
 * ```
 */
export function buildMensagemTiss(guide: Guide, data: TissMessageData): TissMessage {
  const m = parse(tissMessageDataSchema, data);
  const g = parseOrThrow(guideSchema, guide, "guide", "guide") as Guide;
  const numeroLote = m.numeroLote ?? g.billing?.batchId;
  if (numeroLote === undefined) fail([{ path: "numeroLote", message: "required: the guide is not billed" }]);
  const guia =
    g.type === "consulta"
      ? consultaNode(g, m.guia as unknown as TissConsultaData)
      : g.type === "sp_sadt"
        ? spSadtNode(g, m.guia as unknown as TissSpSadtData)
        : (fail([{ path: "type", message: "only consulta and sp_sadt guides are built as XML" }]) as never);
  const local = m.registeredAtMs - 3 * 3_600_000;
  const day = new Date(Math.floor(local / DAY_MS) * DAY_MS).toISOString().slice(0, 10);
  const t = new Date(local);
  const hora = `${pad2(t.getUTCHours())}:${pad2(t.getUTCMinutes())}:${pad2(t.getUTCSeconds())}`;
  const registroANS = (m.guia as { registroANS: string }).registroANS;
  const body = checked(
    el(
      "mensagemTISS",
      el(
        "cabecalho",
        el(
          "identificacaoTransacao",
          leaf("tipoTransacao", "ENVIO_LOTE_GUIAS"),
          leaf("sequencialTransacao", m.sequencialTransacao),
          leaf("dataRegistroTransacao", day),
          leaf("horaRegistroTransacao", hora),
        ),
        el("origem", el("identificacaoPrestador", leaf("codigoPrestadorNaOperadora", g.provider.code))),
        el("destino", leaf("registroANS", registroANS)),
        leaf("Padrao", TISS_VERSION),
      ),
      el("prestadorParaOperadora", el("loteGuias", leaf("numeroLote", numeroLote!), el("guiasTISS", guia))),
    ),
  );
  const hash = tissHashOf(texts(body));
  const root = body as Extract<XmlNode, { children: readonly XmlNode[] }>;
  const full = el("mensagemTISS", ...root.children, el("epilogo", leaf("hash", hash)));
  const xml = `<?xml version="1.0" encoding="ISO-8859-1"?>\n${serialize(full, true)}\n`;
  return { xml, bytes: latin1Bytes(xml), hash };
}
