import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import {
  CODES_FILE,
  GENERATED_HEADER,
  LABELS_FILE,
  readSimpleTypes,
  readSimpleTypesXsd,
  renderTables,
  tissTables,
} from "../../../scripts/tiss-tables.js";
import { PROFESSIONAL_COUNCILS } from "../../../src/index.js";
import * as codes from "../../../src/tiss/_codes.generated.js";
import * as labels from "../../../src/tiss/_labels.generated.js";
import { TISS_GLOSAS } from "../../../src/tiss/index.js";

const xsd = readSimpleTypesXsd();
const fresh = tissTables(xsd);

describe("generated TISS tables (regenerate with `npx tsx scripts/tiss-tables.ts`)", () => {
  it("the committed tables equal the ones generated from the XSD copy, in order", () => {
    for (const [committed, generated] of [
      [codes, fresh.codes],
      [labels, fresh.labels],
    ] as const) {
      expect(Object.keys(committed).sort()).toEqual(Object.keys(generated).sort());
      for (const [name, table] of Object.entries(generated)) {
        const value = (committed as Record<string, unknown>)[name];
        expect(value, name).toStrictEqual(table.value);
        // Order matters too: compare the entries as lists.
        expect(Object.entries(value as object), name).toStrictEqual(Object.entries(table.value));
        expect(Object.isFrozen(value), name).toBe(true);
      }
    }
    for (const file of [CODES_FILE, LABELS_FILE]) {
      expect(readFileSync(file, "utf8").startsWith(GENERATED_HEADER)).toBe(true);
    }
  });

  it("would fail on drift: a changed enumeration changes the generated tables", () => {
    const drifted = xsd.replace('<enumeration value="3156"/>', '<enumeration value="3199"/>');
    expect(drifted).not.toBe(xsd);
    expect(() => tissTables(drifted)).toThrow(/dm_tipoGlosa 3199 has no label/);
    const without15 = xsd.replace(
      /(name="dm_conselhoProfissional">[\s\S]*?)<enumeration value="15"\/>/,
      "$1",
    );
    expect(without15).not.toBe(xsd);
    const dropped = tissTables(without15);
    expect(dropped.codes.COUNCIL_SIGLA_BY_CODE!.value).not.toStrictEqual(codes.COUNCIL_SIGLA_BY_CODE);
    expect(renderTables(fresh.codes)).toContain(
      'export const TABLE_74 = /* @__PURE__ */ Object.freeze({\n  "01": ',
    );
  });

  it("has the schema's counts", () => {
    const types = readSimpleTypes(xsd);
    expect(Object.keys(codes.COUNCIL_SIGLA_BY_CODE)).toHaveLength(15);
    expect(codes.COUNCIL_SIGLA_BY_CODE["01"]).toBe("CRESS");
    expect(codes.COUNCIL_SIGLA_BY_CODE["06"]).toBe("CRM");
    expect(PROFESSIONAL_COUNCILS.slice(10)).toEqual(["CRBio", "CRBM", "CREF", "CRMV", "CRTR"]);
    expect(PROFESSIONAL_COUNCILS[0]).toBe("CRESS");
    expect(Object.keys(codes.UF_SIGLA_BY_CODE)).toHaveLength(28);
    expect(codes.UF_SIGLA_BY_CODE["98"]).toBe("EX");
    expect(labels.UF_NAMES["98"]).toBe("Países Estrangeiros");
    // The schema lists 171 CBO-S enumerations; 225121 and 225325 appear twice, so 169 distinct codes.
    expect(types.get("dm_CBOS")!.values).toHaveLength(171);
    expect(codes.CBOS_CODES).toHaveLength(169);
    expect(labels.CBOS_LABELS["225125"]).toBe("Médico clínico");
    // dm_tipoGlosa: 624 codes (the schema also enumerates the empty string, which is no code).
    expect(types.get("dm_tipoGlosa")!.values.filter((v) => v !== "")).toHaveLength(624);
    expect(Object.keys(TISS_GLOSAS)).toHaveLength(624);
    expect(TISS_GLOSAS["3156"]).toBe("TOKEN INVÁLIDO");
    expect(codes.TABELA_CODES).toEqual(["18", "19", "20", "22", "90", "98", "00"]);
    expect(Object.keys(codes.TABLE_72)).toEqual(["01", "02", "03", "04", "05", "06", "07", "08", "09"]);
    expect(codes.TABLE_74["03"]).toBe(
      "Intermitência/Instabilidade de sistemas e regularização do atendimento após saída do beneficiário do prestador de serviço",
    );
    expect(codes.TABLE_74["04"]).toBe("Beneficiário se negou a transmitir o número do token");
    expect(Object.keys(codes.TABLE_45)).toEqual(["1", "2", "3", "4", "5", "6", "7"]);
  });
});
