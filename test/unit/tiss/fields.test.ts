import { describe, expect, it } from "vitest";
import type { Guide } from "../../../src/index.js";
import { toTissGuideFields } from "../../../src/tiss/index.js";
import { confirmedGuide } from "./_helpers.js";

describe("toTissGuideFields", () => {
  it("a consulta: XSD names, XSD order, no senha or dataAutorizacao", async () => {
    const g = await confirmedGuide();
    const f = toTissGuideFields(g);
    expect(f.guia).toBe("guiaConsulta");
    expect(Object.keys(f.fields)).toEqual([
      "numeroGuiaPrestador",
      "numeroGuiaOperadora",
      "codValidacao",
      "numeroCarteira",
      "codigoPrestadorNaOperadora",
      "conselhoProfissional",
      "numeroConselhoProfissional",
      "UF",
      "CBOS",
      "dataAtendimento",
    ]);
    expect(f.fields.dataAtendimento).toBe("2026-11-23");
    expect(f.procedimentos).toEqual([{ codigoTabela: "22", codigoProcedimento: "10101012" }]);
    for (const v of Object.values(f.fields)) expect(typeof v).toBe("string");
  });

  it("an SP/SADT with an absence reason: the authorization block in XSD order", async () => {
    const g = await confirmedGuide({ id: "S1", type: "sp_sadt" }, { absence: true });
    const f = toTissGuideFields(g);
    expect(f.guia).toBe("guiaSP-SADT");
    expect(Object.entries(f.fields).slice(0, 6)).toEqual([
      ["numeroGuiaPrestador", "S1"],
      ["numeroGuiaOperadora", "OP-2026-77"],
      ["dataAutorizacao", "2026-11-23"],
      ["senha", "SENHA-77"],
      ["dataValidadeSenha", "2026-12-23"],
      ["ausenciaCodValidacao", "07"],
    ]);
    expect(f.fields.caraterAtendimento).toBe("1");
    expect(f.procedimentos).toEqual([
      { codigoTabela: "22", codigoProcedimento: "10101012", quantidade: "1", dataExecucao: "2026-11-23" },
    ]);
  });

  it("a honorários guide has no token field", async () => {
    const g = await confirmedGuide({ id: "H1", type: "sp_sadt" });
    const h = {
      ...g,
      type: "honorarios",
      confirmation: { kind: "not_required", atMs: g.confirmation!.atMs },
    };
    const f = toTissGuideFields(h as Guide);
    expect(f.guia).toBe("guiaHonorarios");
    expect(Object.keys(f.fields)).toEqual([
      "numeroGuiaPrestador",
      "senha",
      "numeroGuiaOperadora",
      "numeroCarteira",
      "codigoNaOperadora",
    ]);
  });

  it("a guide stored before the codes (council CRM, UF PR, no table) comes out with the codes", async () => {
    const g = await confirmedGuide();
    const legacy = {
      ...g,
      provider: { ...g.provider, professional: { council: "CRM", number: "99999", uf: "PR", cbo: "225125" } },
      procedures: [{ tuss: "10101012", quantity: 1 }],
    };
    const f = toTissGuideFields(legacy as unknown as Guide);
    expect(f.fields.conselhoProfissional).toBe("06");
    expect(f.fields.UF).toBe("41");
    expect(f.procedimentos[0]!.codigoTabela).toBe("22");
  });
});
