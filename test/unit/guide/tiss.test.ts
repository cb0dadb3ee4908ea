import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { InvalidArgumentError } from "../../../src/errors.js";
import {
  createGuide,
  type Guide,
  ibgeCodeOfUf,
  isReturnVisit,
  isValidCbo,
  isValidCns,
  isValidCpf,
  isValidTuss,
  TISS_ABSENCE_REASONS,
  TISS_CHARACTER,
  TISS_CONSULTATION_TYPE,
  TISS_REQUEST_STATUS,
  toTissCharacter,
  toTissStatus,
  toTissValidation,
  transition,
  UF_IBGE_CODES,
  UFS,
} from "../../../src/guide/index.js";
import { authorizeEvent, cpfFromNine, DAY, guideIn, HOUR, input, receiptFor, T0 } from "./_fixtures.js";

const nine = fc.array(fc.integer({ min: 0, max: 9 }), { minLength: 9, maxLength: 9 });
const punctuate = (c: string) => `${c.slice(0, 3)}.${c.slice(3, 6)}.${c.slice(6, 9)}-${c.slice(9)}`;

describe("CPF check digits", () => {
  it("accepts generated CPFs, bare and punctuated", () => {
    fc.assert(
      fc.property(
        nine.filter((d) => new Set(d).size > 1),
        (d) => {
          const cpf = cpfFromNine(d);
          expect(isValidCpf(cpf)).toBe(true);
          expect(isValidCpf(punctuate(cpf))).toBe(true);
        },
      ),
    );
  });

  it("rejects any change to either check digit", () => {
    fc.assert(
      fc.property(nine, fc.integer({ min: 9, max: 10 }), fc.integer({ min: 1, max: 9 }), (d, pos, delta) => {
        const cpf = cpfFromNine(d);
        const wrong = cpf.slice(0, pos) + ((Number(cpf[pos]) + delta) % 10) + cpf.slice(pos + 1);
        expect(isValidCpf(wrong)).toBe(false);
      }),
    );
  });

  it("rejects the ten all-same-digit CPFs although their check digits compute", () => {
    for (let digit = 0; digit <= 9; digit++) {
      const same = String(digit).repeat(11);
      expect(cpfFromNine(Array(9).fill(digit))).toBe(same);
      expect(isValidCpf(same)).toBe(false);
    }
  });

  it("rejects wrong lengths, letters and other punctuation", () => {
    const cpf = cpfFromNine([2, 7, 1, 8, 2, 8, 1, 8, 2]);
    for (const bad of [
      cpf.slice(1),
      `0${cpf}`,
      `${cpf.slice(0, 10)}a`,
      cpf.replace(/^(\d{3})/, "$1 "),
      ` ${cpf}`,
    ]) {
      expect(isValidCpf(bad)).toBe(false);
    }
    expect(isValidCpf(`${cpf.slice(0, 3)}-${cpf.slice(3, 6)}.${cpf.slice(6, 9)}.${cpf.slice(9)}`)).toBe(
      false,
    );
  });

  it("never throws on hostile strings", () => {
    fc.assert(fc.property(fc.string(), (s) => typeof isValidCpf(s) === "boolean"));
    expect(isValidCpf(12345678909 as never)).toBe(false);
  });
});

describe("UF → IBGE", () => {
  // IBGE region by first digit: 1 North, 2 Northeast, 3 Southeast, 4 South, 5 Center-West.
  const REGION: Record<string, string[]> = {
    "1": ["RO", "AC", "AM", "RR", "PA", "AP", "TO"],
    "2": ["MA", "PI", "CE", "RN", "PB", "PE", "AL", "SE", "BA"],
    "3": ["MG", "ES", "RJ", "SP"],
    "4": ["PR", "SC", "RS"],
    "5": ["MS", "MT", "GO", "DF"],
  };

  it("maps all 27 UFs to distinct two-digit codes in the right region", () => {
    expect(UFS).toHaveLength(27);
    expect(Object.keys(UF_IBGE_CODES).sort()).toEqual([...UFS].sort());
    expect(new Set(Object.values(UF_IBGE_CODES)).size).toBe(27);
    for (const [region, ufs] of Object.entries(REGION)) {
      for (const uf of ufs) expect(ibgeCodeOfUf(uf)?.[0], uf).toBe(region);
    }
  });

  it("knows the codes TISS examples use", () => {
    expect(ibgeCodeOfUf("PR")).toBe("41");
    expect(ibgeCodeOfUf("SP")).toBe("35");
    expect(ibgeCodeOfUf("RJ")).toBe("33");
    expect(ibgeCodeOfUf("MG")).toBe("31");
    expect(ibgeCodeOfUf("DF")).toBe("53");
    expect(ibgeCodeOfUf("GO")).toBe("52");
    expect(ibgeCodeOfUf("BA")).toBe("29");
  });

  it("returns undefined for anything else, including prototype keys", () => {
    for (const bad of ["pr", "XX", "", "toString", "__proto__", "constructor"]) {
      expect(ibgeCodeOfUf(bad)).toBeUndefined();
    }
  });
});

describe("formats", () => {
  /** Makes a provisional CNS (starts with 7, 8 or 9) by choosing the last digit; undefined when none fits. */
  function provisionalCns(first: number, rest: number[]): string | undefined {
    const d = [first, ...rest];
    const sum = d.reduce((acc, x, i) => acc + x * (15 - i), 0);
    const last = (11 - (sum % 11)) % 11;
    return last > 9 ? undefined : [...d, last].join("");
  }

  it("validates CNS checksums", () => {
    fc.assert(
      fc.property(
        fc.constantFrom(7, 8, 9),
        fc.array(fc.integer({ min: 0, max: 9 }), { minLength: 13, maxLength: 13 }),
        (first, rest) => {
          const cns = provisionalCns(first, rest);
          fc.pre(cns !== undefined);
          expect(isValidCns(cns!)).toBe(true);
          const changed = cns!.slice(0, 14) + ((Number(cns![14]) + 1) % 10);
          expect(isValidCns(changed)).toBe(false);
        },
      ),
    );
    expect(isValidCns("0".repeat(15))).toBe(false);
    expect(isValidCns("7".repeat(14))).toBe(false);
  });

  it("checks CBO (6 digits) and TUSS (8 digits)", () => {
    expect(isValidCbo("225125")).toBe(true);
    expect(isValidCbo("22512")).toBe(false);
    expect(isValidCbo("2251250")).toBe(false);
    expect(isValidTuss("40304361")).toBe(true);
    expect(isValidTuss("4030436")).toBe(false);
    expect(isValidTuss("4030436a")).toBe(false);
  });
});

describe("TISS tables", () => {
  it("table 74 has reasons 01–07, table 45 statuses 1–7, tables 23 and 52", () => {
    expect(Object.keys(TISS_ABSENCE_REASONS)).toEqual(["01", "02", "03", "04", "05", "06", "07"]);
    expect(Object.keys(TISS_REQUEST_STATUS)).toEqual(["1", "2", "3", "4", "5", "6", "7"]);
    expect(TISS_REQUEST_STATUS["7"]).toBe("Autorizado parcialmente");
    expect(Object.keys(TISS_CHARACTER)).toEqual(["1", "2"]);
    expect(Object.keys(TISS_CONSULTATION_TYPE)).toEqual(["1", "2", "3", "4"]);
    expect(toTissCharacter("eletiva")).toBe("1");
    expect(toTissCharacter("urgencia")).toBe("2");
  });

  it("toTissStatus follows table 45", () => {
    const expected = {
      requested: "2",
      under_review: "2",
      awaiting_justification: "4",
      awaiting_documents: "5",
      authorized: "1",
      partially_authorized: "7",
      denied: "3",
      cancelled: "6",
      confirmed: "1",
      billed: "1",
      paid: "1",
      disallowed: "1",
      appealed: "1",
      expired: undefined,
    } as const;
    for (const [state, code] of Object.entries(expected)) {
      expect(toTissStatus(guideIn(state as keyof typeof expected)), state).toBe(code);
    }
    const p = guideIn("partially_authorized");
    const partial = transition(p, { type: "confirm", receipt: receiptFor(p) }, { nowMs: T0 });
    expect(toTissStatus(partial)).toBe("7");
  });

  it("toTissValidation gives exactly one field once confirmed, undefined before and for honorários", () => {
    expect(toTissValidation(guideIn("authorized"))).toBeUndefined();
    expect(toTissValidation(guideIn("billed"))).toStrictEqual({ codValidacao: "482913" });
    const a = guideIn("authorized");
    const absent = transition(
      a,
      { type: "confirm", absence: { reason: "03", justification: "sistema fora" } },
      { nowMs: T0 },
    );
    expect(toTissValidation(absent)).toStrictEqual({ ausenciaCodValidacao: "03" });
    expect(toTissValidation(guideIn("paid", "honorarios"))).toBeUndefined();
  });
});

describe("isReturnVisit", () => {
  const consulta = (id: string, overrides: Parameters<typeof input>[0] = {}) =>
    createGuide(
      input({ id, type: "consulta", procedures: [{ tuss: "10101012", quantity: 1 }], ...overrides }),
    );
  const attended = (g: Guide, atMs: number) => {
    const a = transition(g, authorizeEvent(), { nowMs: atMs });
    return transition(a, { type: "confirm", receipt: receiptFor(a) }, { nowMs: atMs });
  };
  // First consultation on 2026-11-02 at 17:00 in São Paulo.
  const firstAt = Date.parse("2026-11-02T17:00:00-03:00");
  const first = attended(consulta("C-1"), firstAt);

  it("counts a consultation by the same provider through the 30th calendar day (São Paulo)", () => {
    const g = consulta("C-2");
    // Day 30 is 2026-12-02: late that evening is still a return visit; the next morning is not.
    expect(isReturnVisit(g, [first], { atMs: Date.parse("2026-12-02T23:30:00-03:00") })).toBe(true);
    expect(isReturnVisit(g, [first], { atMs: Date.parse("2026-12-03T00:00:00-03:00") })).toBe(false);
    expect(isReturnVisit(g, [first], { atMs: firstAt + 1 })).toBe(true);
  });

  it("takes the window and the attendance time from the confirmed guide", () => {
    const later = attended(consulta("C-2"), Date.parse("2026-11-12T10:00:00-03:00"));
    expect(isReturnVisit(later, [first])).toBe(true);
    expect(isReturnVisit(later, [first], { windowDays: 10 })).toBe(true);
    expect(isReturnVisit(later, [first], { windowDays: 9 })).toBe(false);
  });

  it("ignores other providers, other beneficiaries, non-consultations, cancelled, unconfirmed and later guides", () => {
    const atMs = firstAt + 5 * DAY;
    const g = consulta("C-2");
    const otherProvider = attended(consulta("C-3", { provider: { code: "PR-999" } }), firstAt);
    const otherBeneficiary = attended(consulta("C-4", { beneficiary: { cardNumber: "0099" } }), firstAt);
    const exam = attended(createGuide(input({ id: "S-1" })), firstAt);
    const cancelled = transition(first, { type: "cancel" }, { nowMs: firstAt + HOUR });
    const unconfirmed = consulta("C-5");
    const afterwards = attended(consulta("C-6"), atMs + DAY);
    expect(
      isReturnVisit(g, [otherProvider, otherBeneficiary, exam, cancelled, unconfirmed, afterwards], { atMs }),
    ).toBe(false);
    expect(isReturnVisit(g, [{ ...first, id: g.id }], { atMs })).toBe(false);
    expect(isReturnVisit(createGuide(input({ id: "S-2" })), [first], { atMs })).toBe(false);
  });

  it("needs a time for an unconfirmed guide and a sane window", () => {
    expect(() => isReturnVisit(consulta("C-2"), [first])).toThrow(InvalidArgumentError);
    expect(() => isReturnVisit(consulta("C-2"), [first], { atMs: T0, windowDays: -1 })).toThrow(
      InvalidArgumentError,
    );
    expect(() => isReturnVisit(consulta("C-2"), [first], { atMs: T0, windowDays: 1.5 })).toThrow(
      InvalidArgumentError,
    );
  });
});
