/** Each mismatch with the TISS 4.01.00 XSD that the guide used to let through, with the fix. */
import { describe, expect, it } from "vitest";
import { InvalidArgumentError } from "../../../src/errors.js";
import {
  councilCodeOf,
  createGuide,
  ibgeCodeOfUf,
  isValidCbo,
  TISS_ABSENCE_REASONS,
  TISS_CBOS_CODES,
  TISS_CONSULTATION_TYPE,
  TISS_IDENTIFICATION_TYPES,
  toSaoPauloDate,
  toTissStatus,
  transition,
} from "../../../src/guide/index.js";
import { authorizeEvent, guideIn, input, T0 } from "./_fixtures.js";

const paths = (f: () => unknown) => {
  try {
    f();
  } catch (e) {
    if (e instanceof InvalidArgumentError) return e.issues.map((i) => i.path);
    throw e;
  }
  return [];
};
const pro = (over: object) => ({
  provider: { code: "P1", professional: { council: "CRM", number: "1", uf: "PR", cbo: "225125", ...over } },
});

describe("guide fields against the XSD", () => {
  it("stores the council as its dm_conselhoProfissional code, from a code or a sigla", () => {
    expect(createGuide(input(pro({}) as never)).provider.professional!.council).toBe("06");
    expect(createGuide(input(pro({ council: "06" }) as never)).provider.professional!.council).toBe("06");
    expect(createGuide(input(pro({ council: "CRBio" }) as never)).provider.professional!.council).toBe("11");
    expect(createGuide(input(pro({ council: "CRAS" }) as never)).provider.professional!.council).toBe("01");
    expect(councilCodeOf("CRESS")).toBe("01");
    for (const bad of ["16", "00", "crm", "CRX", "6"]) {
      expect(paths(() => createGuide(input(pro({ council: bad }) as never)))).toEqual([
        "provider.professional.council",
      ]);
    }
  });

  it("stores the UF as its IBGE code, 98 included", () => {
    expect(createGuide(input(pro({}) as never)).provider.professional!.uf).toBe("41");
    expect(createGuide(input(pro({ uf: "41" }) as never)).provider.professional!.uf).toBe("41");
    expect(createGuide(input(pro({ uf: "98" }) as never)).provider.professional!.uf).toBe("98");
    expect(ibgeCodeOfUf("EX")).toBe("98");
    for (const bad of ["34", "99", "pr", "XX"]) {
      expect(paths(() => createGuide(input(pro({ uf: bad }) as never)))).toEqual([
        "provider.professional.uf",
      ]);
    }
  });

  it("accepts only the XSD's CBO-S enumeration, not any 6 digits", () => {
    expect(TISS_CBOS_CODES).toHaveLength(169);
    expect(isValidCbo("225125")).toBe(true);
    expect(isValidCbo("123456")).toBe(false);
    expect(paths(() => createGuide(input(pro({ cbo: "123456" }) as never)))).toEqual([
      "provider.professional.cbo",
    ]);
  });

  it("numeroGuiaPrestador (the id) has at most 20 characters", () => {
    expect(() => createGuide(input({ id: "G".repeat(20) }))).not.toThrow();
    expect(paths(() => createGuide(input({ id: "G".repeat(21) })))).toEqual(["id"]);
  });

  it("quantities are st_numerico3: at most 999", () => {
    expect(() => createGuide(input({ procedures: [{ tuss: "40304361", quantity: 999 }] }))).not.toThrow();
    expect(paths(() => createGuide(input({ procedures: [{ tuss: "40304361", quantity: 1000 }] })))).toEqual([
      "procedures.0.quantity",
    ]);
  });

  it("a consulta has exactly one procedure", () => {
    const two = [
      { tuss: "10101012", quantity: 1 },
      { tuss: "10101039", quantity: 1 },
    ];
    expect(paths(() => createGuide(input({ type: "consulta", procedures: two })))).toEqual(["procedures"]);
    expect(() => createGuide(input({ type: "sp_sadt", procedures: two }))).not.toThrow();
  });

  it("every procedure has its codigoTabela (dm_tabela), 22 by default", () => {
    expect(createGuide(input()).procedures[0]!.table).toBe("22");
    const own = createGuide(input({ procedures: [{ tuss: "ABC-1", quantity: 1, table: "00" }] }));
    expect(own.procedures[0]).toEqual({ tuss: "ABC-1", quantity: 1, table: "00" });
    expect(paths(() => createGuide(input({ procedures: [{ tuss: "ABC-1", quantity: 1 }] })))).toEqual([
      "procedures.0.tuss",
    ]);
    expect(
      paths(() =>
        createGuide(input({ procedures: [{ tuss: "40304361", quantity: 1, table: "21" as never }] })),
      ),
    ).toEqual(["procedures.0.table"]);
    expect(
      paths(() => createGuide(input({ procedures: [{ tuss: "12345678901", quantity: 1, table: "00" }] }))),
    ).toEqual(["procedures.0.tuss"]);
  });

  it("the authorization carries numeroGuiaOperadora (<= 20) for every guide type", () => {
    for (const type of ["consulta", "sp_sadt", "internacao", "odonto", "honorarios"] as const) {
      const procedures = [{ tuss: "10101012", quantity: 1 }];
      const g = transition(
        createGuide(input({ type, procedures })),
        { ...authorizeEvent(), numeroGuiaOperadora: "OP-1" } as never,
        { nowMs: T0 },
      );
      expect(g.authorization!.numeroGuiaOperadora, type).toBe("OP-1");
    }
    expect(
      paths(() =>
        transition(
          guideIn("requested"),
          { ...authorizeEvent(), numeroGuiaOperadora: "N".repeat(21) } as never,
          {
            nowMs: T0,
          },
        ),
      ),
    ).toEqual(["event.numeroGuiaOperadora"]);
  });

  it("statusSolicitacao is a one-character string", () => {
    expect(toTissStatus(guideIn("authorized"))).toBe("1");
    expect(toTissStatus(guideIn("denied"))).toBe("3");
  });

  it("tables 52, 72 and 74 carry the XSD's labels", () => {
    expect(TISS_ABSENCE_REASONS["02"]).toBe("Beneficiário em situação de urgência/emergência");
    expect(TISS_ABSENCE_REASONS["06"]).toBe("Material para exames enviado ao prestador por terceiros");
    expect(TISS_IDENTIFICATION_TYPES["09"]).toBe("Cartão de identificação virtual");
    expect(TISS_CONSULTATION_TYPE["3"]).toBe("Pré-Natal");
  });
});

describe("toSaoPauloDate", () => {
  it("is the São Paulo calendar date: 21:00–23:59 Brasília is the next UTC day", () => {
    const day = Date.UTC(2026, 10, 24, 0, 0, 0); // 2026-11-23T21:00-03:00
    expect(toSaoPauloDate(day - 1)).toBe("2026-11-23");
    expect(toSaoPauloDate(day)).toBe("2026-11-23");
    expect(new Date(day).toISOString().slice(0, 10)).toBe("2026-11-24"); // the naive UTC date, one day late
    const midnight = Date.UTC(2026, 10, 24, 3, 0, 0); // 2026-11-24T00:00-03:00
    expect(toSaoPauloDate(midnight - 1)).toBe("2026-11-23");
    expect(toSaoPauloDate(midnight)).toBe("2026-11-24");
    expect(toSaoPauloDate(Date.UTC(2027, 0, 1, 2, 59, 59, 999))).toBe("2026-12-31");
  });

  it("refuses what is not a time", () => {
    for (const bad of [-1, 1.5, Number.NaN, "0" as never])
      expect(() => toSaoPauloDate(bad)).toThrow(InvalidArgumentError);
  });
});
