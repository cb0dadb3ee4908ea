import { describe, expect, it } from "vitest";
import type { Guide } from "../../../src/index.js";
import {
  buildAutorizacaoSadt,
  buildGuiaConsulta,
  buildMensagemTiss,
  type TissConsultaData,
  TissFieldError,
  type TissMessageData,
  type TissSpSadtData,
} from "../../../src/tiss/index.js";
import { confirmedGuide, independentHash, LATE_EVENING, xsdErrors } from "./_helpers.js";

const consultaData: TissConsultaData = {
  registroANS: "123456",
  CNES: "1234567",
  indicacaoAcidente: "9",
  regimeAtendimento: "01",
  tipoConsulta: "1",
  valorProcedimento: 150,
};
const sadtData: TissSpSadtData = {
  registroANS: "123456",
  CNES: "7654321",
  indicacaoAcidente: "9",
  regimeAtendimento: "01",
  tipoAtendimento: "13",
  nomeContratadoSolicitante: "Clínica Demonstração",
  procedimentos: [
    { descricaoProcedimento: "Hemograma completo", valorUnitario: 12.5 },
    { descricaoProcedimento: "Glicose", valorUnitario: 7.3, reducaoAcrescimo: 1.5 },
  ],
};
const message = (guia: TissConsultaData | TissSpSadtData): TissMessageData => ({
  sequencialTransacao: "000001",
  registeredAtMs: LATE_EVENING,
  numeroLote: "L000001",
  guia,
});
const sadtGuide = (absence = false) =>
  confirmedGuide(
    {
      id: "SADT-0001",
      type: "sp_sadt",
      procedures: [
        { tuss: "40304361", quantity: 1 },
        { tuss: "40302040", quantity: 2 },
      ],
    },
    { absence },
  );

function refused(f: () => unknown): TissFieldError {
  try {
    f();
  } catch (e) {
    if (e instanceof TissFieldError) return e;
    throw e;
  }
  throw new Error("expected a TissFieldError");
}

describe("mensagemTISS from a guide that went through the real flow", () => {
  it("guiaConsulta with codValidacao validates against the XSD; the hash matches an independent MD5", async () => {
    const g = await confirmedGuide();
    const m = buildMensagemTiss(g, message(consultaData));
    expect(await xsdErrors(m.bytes)).toEqual([]);
    expect(m.hash).toMatch(/^[0-9a-f]{32}$/);
    expect(m.hash).toBe(independentHash(m.bytes));
    expect(m.xml).toContain(
      `<ans:codValidacao>${(g.confirmation as { codValidacao: string }).codValidacao}<`,
    );
    expect(m.xml).not.toContain("ausenciaCodValidacao");
    // A guia de consulta has no senha; the authorization number is numeroGuiaOperadora.
    expect(m.xml).not.toContain("senha");
    expect(m.xml).toContain("<ans:numeroGuiaOperadora>OP-2026-77<");
    // 22:30 in Brasília is 01:30 UTC of the 24th: the TISS dates are the 23rd.
    expect(m.xml).toContain("<ans:dataAtendimento>2026-11-23<");
    expect(m.xml).toContain("<ans:dataRegistroTransacao>2026-11-23<");
    expect(m.xml).toContain("<ans:horaRegistroTransacao>22:30:00<");
    expect(m.xml).toContain("<ans:conselhoProfissional>06<");
    expect(m.xml).toContain("<ans:UF>41<");
    expect(m.xml.startsWith('<?xml version="1.0" encoding="ISO-8859-1"?>\n')).toBe(true);
  });

  it("guiaConsulta with ausenciaCodValidacao validates", async () => {
    const g = await confirmedGuide({}, { absence: true });
    const m = buildMensagemTiss(g, message(consultaData));
    expect(await xsdErrors(m.bytes)).toEqual([]);
    expect(m.xml).toContain("<ans:ausenciaCodValidacao>07<");
    expect(m.xml).not.toContain("<ans:codValidacao>");
    expect(m.hash).toBe(independentHash(m.bytes));
  });

  it("guiaSP-SADT with codValidacao, and with ausenciaCodValidacao, validates; dataAutorizacao is the São Paulo date", async () => {
    for (const absence of [false, true]) {
      const g = await sadtGuide(absence);
      const m = buildMensagemTiss(g, message(sadtData));
      expect(await xsdErrors(m.bytes), `absence ${absence}`).toEqual([]);
      expect(m.hash).toBe(independentHash(m.bytes));
      expect(m.xml).toContain("<ans:dataAutorizacao>2026-11-23<");
      expect(m.xml).toContain("<ans:dataExecucao>2026-11-23<");
      expect(m.xml).toContain("<ans:senha>SENHA-77<");
      expect(m.xml).toContain(absence ? "<ans:ausenciaCodValidacao>07<" : "<ans:codValidacao>");
      // 12.50 × 1 + 7.30 × 2 × 1.5 = 12.50 + 21.90
      expect(m.xml).toContain("<ans:valorTotalGeral>34.40<");
      expect(m.xml).toContain("<ans:quantidadeExecutada>2<");
    }
  });

  it("writes ISO-8859-1 bytes and escapes markup; the hash is over the unescaped ISO-8859-1 text", async () => {
    const g = await confirmedGuide();
    const m = buildMensagemTiss(g, message({ ...consultaData, observacao: "Dor & febre <leve>, atenção" }));
    expect(await xsdErrors(m.bytes)).toEqual([]);
    expect(m.xml).toContain("<ans:observacao>Dor &amp; febre &lt;leve&gt;, atenção<");
    const i = Buffer.from(m.bytes).indexOf(Buffer.from(", aten", "latin1"));
    expect([...m.bytes.slice(i + 6, i + 9)]).toEqual([0xe7, 0xe3, 0x6f]); // ç ã o, one byte each
    expect(m.bytes.length).toBe(m.xml.length);
    expect(m.hash).toBe(independentHash(m.bytes));
  });

  it("a character ISO-8859-1 cannot carry is refused, naming the field", async () => {
    const g = await confirmedGuide();
    const e = refused(() => buildMensagemTiss(g, message({ ...consultaData, observacao: "dor — febre" })));
    expect(e.fields).toEqual(["observacao"]);
    expect(e.code).toBe("INVALID_ARGUMENT");
  });

  it("the fragments are the elements of the message", async () => {
    const g = await confirmedGuide();
    const consulta = buildGuiaConsulta(g, consultaData);
    expect(
      consulta.startsWith('<ans:guiaConsulta xmlns:ans="http://www.ans.gov.br/padroes/tiss/schemas">'),
    ).toBe(true);
    const inner = (xml: string) => xml.replace(/\s+/g, "").replace(/ xmlns:ans="[^"]*"/, "");
    const m = buildMensagemTiss(g, message(consultaData));
    expect(inner(m.xml)).toContain(inner(consulta).replace(/xmlns:ans="[^"]*"/, ""));
    const s = await sadtGuide();
    const auth = buildAutorizacaoSadt(s);
    expect(auth).toMatch(
      /^<ans:dadosAutorizacao xmlns:ans="[^"]+">\n {2}<ans:numeroGuiaOperadora>OP-2026-77<\/ans:numeroGuiaOperadora>\n {2}<ans:dataAutorizacao>2026-11-23<\/ans:dataAutorizacao>\n {2}<ans:senha>SENHA-77<\/ans:senha>\n {2}<ans:dataValidadeSenha>2026-12-23<\/ans:dataValidadeSenha>\n {2}<ans:codValidacao>\d{6}<\/ans:codValidacao>\n<\/ans:dadosAutorizacao>$/,
    );
  });
});

describe("what the XSD refuses, the library refuses first, naming the field", () => {
  const cases: [string, Partial<TissConsultaData>, string, (xml: string) => string][] = [
    [
      "registroANS of 5 digits",
      { registroANS: "12345" },
      "registroANS",
      (x) => x.replaceAll(">123456<", ">12345<"),
    ],
    ["CNES of 8 characters", { CNES: "12345678" }, "CNES", (x) => x.replace(">1234567<", ">12345678<")],
    [
      "valorProcedimento of 9 digits (st_decimal8-2)",
      { valorProcedimento: 12_345_678.9 },
      "valorProcedimento",
      (x) => x.replace(">150.00<", ">12345678.90<"),
    ],
    [
      "tipoConsulta 5",
      { tipoConsulta: "5" as never },
      "tipoConsulta",
      (x) => x.replace("Consulta>1<", "Consulta>5<"),
    ],
    [
      "indicacaoAcidente 3",
      { indicacaoAcidente: "3" as never },
      "indicacaoAcidente",
      (x) => x.replace("Acidente>9<", "Acidente>3<"),
    ],
  ];
  for (const [what, patch, field, mutate] of cases) {
    it(what, async () => {
      const g = await confirmedGuide();
      const valid = buildMensagemTiss(g, message(consultaData));
      const mutated = mutate(valid.xml);
      expect(mutated).not.toBe(valid.xml);
      expect((await xsdErrors(mutated)).length).toBeGreaterThan(0);
      const e = refused(() => buildMensagemTiss(g, message({ ...consultaData, ...patch })));
      expect(e.fields).toContain(field);
    });
  }

  it("the schema refuses the council sigla and the UF sigla the guide used to hold", async () => {
    const g = await confirmedGuide();
    const xml = buildMensagemTiss(g, message(consultaData)).xml;
    expect(await xsdErrors(xml.replace("Profissional>06<", "Profissional>CRM<"))).not.toEqual([]);
    expect(await xsdErrors(xml.replace("<ans:UF>41<", "<ans:UF>PR<"))).not.toEqual([]);
  });

  it("counts decimal digits as the schema does: 1000000.00 has 7, so it is accepted", async () => {
    const g = await confirmedGuide();
    const m = buildMensagemTiss(g, message({ ...consultaData, valorProcedimento: 1_000_000 }));
    expect(await xsdErrors(m.bytes)).toEqual([]);
    expect(
      refused(() => buildMensagemTiss(g, message({ ...consultaData, valorProcedimento: 1.005 }))).fields,
    ).toEqual(["valorProcedimento"]);
  });

  it("lists every missing required field at once", async () => {
    const g = await confirmedGuide();
    const { registroANS: _a, CNES: _c, ...rest } = consultaData;
    const e = refused(() => buildMensagemTiss(g, message(rest as TissConsultaData)));
    expect(e.fields).toEqual(["registroANS", "CNES"]);
    expect(e.issues.map((i) => i.message)).toEqual(["registroANS is required", "CNES is required"]);
    const noLote = refused(() =>
      buildMensagemTiss(g, { ...message(consultaData), numeroLote: undefined as never }),
    );
    expect(noLote.fields).toEqual(["numeroLote"]);
  });

  it("refuses a guide that is not confirmed, of the wrong type, or without a professional", async () => {
    const g = await confirmedGuide();
    const authorized = { ...g, state: "authorized", confirmation: undefined, history: g.history.slice(0, 1) };
    delete (authorized as { confirmation?: unknown }).confirmation;
    expect(refused(() => buildGuiaConsulta(authorized as unknown as Guide, consultaData)).fields).toEqual([
      "confirmation",
    ]);
    const s = await sadtGuide();
    expect(refused(() => buildGuiaConsulta(s, consultaData)).fields).toEqual(["type"]);
    const bare = await confirmedGuide({ provider: { code: "CLIN-042" } });
    expect(refused(() => buildGuiaConsulta(bare, consultaData)).fields).toEqual(["profissionalExecutante"]);
    expect(
      refused(() =>
        buildMensagemTiss(s, message({ ...sadtData, procedimentos: sadtData.procedimentos.slice(1) })),
      ).fields,
    ).toEqual(["procedimentos"]);
  });

  it("never echoes a value in the error", async () => {
    const g = await confirmedGuide();
    const e = refused(() => buildMensagemTiss(g, message({ ...consultaData, CNES: "SECRET-CNES-123" })));
    expect(e.message + JSON.stringify(e.issues)).not.toContain("SECRET-CNES-123");
  });
});
