import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { countSmsSegments, isGsm7, toGsm7Name } from "../../../src/messages/sms-encoding.js";

// 3GPP TS 23.038 § 6.2.1 (basic table) and § 6.2.1.1 (extension table); segment sizes from the 140-octet
// payload minus the 6-octet concatenation header of 3GPP TS 23.040 § 9.2.3.24.1.
describe("countSmsSegments", () => {
  it("counts the empty text as no segment", () => {
    expect(countSmsSegments("")).toEqual({ encoding: "GSM-7", units: 0, segments: 0 });
  });

  it("fits 160 GSM-7 characters in one segment and splits at 161 into 153-character parts", () => {
    expect(countSmsSegments("a".repeat(160))).toEqual({ encoding: "GSM-7", units: 160, segments: 1 });
    expect(countSmsSegments("a".repeat(161))).toEqual({ encoding: "GSM-7", units: 161, segments: 2 });
    expect(countSmsSegments("a".repeat(306)).segments).toBe(2);
    expect(countSmsSegments("a".repeat(307)).segments).toBe(3);
  });

  it("counts extension-table characters as two septets", () => {
    for (const char of ["^", "{", "}", "\\", "[", "~", "]", "|", "€", "\f"]) {
      expect(countSmsSegments(char)).toEqual({ encoding: "GSM-7", units: 2, segments: 1 });
    }
    expect(countSmsSegments("€".repeat(80))).toEqual({ encoding: "GSM-7", units: 160, segments: 1 });
    expect(countSmsSegments("€".repeat(81))).toEqual({ encoding: "GSM-7", units: 162, segments: 2 });
  });

  it("never splits an escape pair across two segments", () => {
    // 306 septets would fit two 153-septet parts, but the € would straddle the boundary.
    const text = `${"a".repeat(152)}€${"a".repeat(152)}`;
    expect(countSmsSegments(text)).toEqual({ encoding: "GSM-7", units: 306, segments: 3 });
  });

  it("switches to UCS-2 for pt-BR letters outside GSM-7 and keeps GSM-7 for those inside", () => {
    for (const char of ["ã", "õ", "ç", "á", "í", "ó", "ú", "â", "ê", "ô", "Ã", "Í"]) {
      expect(countSmsSegments(`Token ${char}`).encoding).toBe("UCS-2");
    }
    for (const char of ["é", "à", "Ç", "ü", "É", "ñ", "£", "¿", "@", "\n"]) {
      expect(countSmsSegments(`Token ${char}`).encoding).toBe("GSM-7");
    }
  });

  it("fits 70 UCS-2 units in one segment and splits into 67-unit parts", () => {
    expect(countSmsSegments("ã".repeat(70))).toEqual({ encoding: "UCS-2", units: 70, segments: 1 });
    expect(countSmsSegments("ã".repeat(71))).toEqual({ encoding: "UCS-2", units: 71, segments: 2 });
    expect(countSmsSegments("ã".repeat(134)).segments).toBe(2);
    expect(countSmsSegments("ã".repeat(135)).segments).toBe(3);
  });

  it("counts an astral character as two UCS-2 units and never splits the surrogate pair", () => {
    expect(countSmsSegments("🏥")).toEqual({ encoding: "UCS-2", units: 2, segments: 1 });
    const text = `${"ã".repeat(66)}🏥${"ã".repeat(66)}`;
    expect(countSmsSegments(text)).toEqual({ encoding: "UCS-2", units: 134, segments: 3 });
  });

  it("agrees with isGsm7 and stays within the segment bounds for any text", () => {
    fc.assert(
      fc.property(fc.string({ unit: "grapheme", maxLength: 400 }), (text) => {
        const r = countSmsSegments(text);
        expect(r.encoding === "GSM-7").toBe(isGsm7(text));
        if (r.encoding === "UCS-2") expect(r.units).toBe(text.length);
        else expect(r.units).toBeGreaterThanOrEqual([...text].length);
        const single = r.encoding === "GSM-7" ? 160 : 70;
        const multi = r.encoding === "GSM-7" ? 153 : 67;
        if (r.units === 0) expect(r.segments).toBe(0);
        else if (r.units <= single) expect(r.segments).toBe(1);
        else {
          expect(r.segments).toBeGreaterThanOrEqual(Math.ceil(r.units / multi));
          expect(r.segments).toBeLessThanOrEqual(Math.ceil(r.units / (multi - 1)));
        }
      }),
      { numRuns: 500 },
    );
  });
});

describe("toGsm7Name", () => {
  it("strips accents and keeps names readable", () => {
    expect(toGsm7Name("São Lucas Saúde", 20)).toBe("Sao Lucas Saude");
    expect(toGsm7Name("  Operadora\n\tAção  ", 20)).toBe("Operadora Acao");
  });

  it("cuts at the last whole word within the limit", () => {
    expect(toGsm7Name("Operadora de Saúde Suplementar", 20)).toBe("Operadora de Saude");
    expect(toGsm7Name("Supercalifragilisticexpialidocious", 20)).toBe("Supercalifragilistic");
  });

  it("always returns GSM-7 basic text within the limit, whatever the input", () => {
    fc.assert(
      fc.property(
        fc.string({ unit: "grapheme", maxLength: 200 }),
        fc.integer({ min: 1, max: 40 }),
        (name, max) => {
          const out = toGsm7Name(name, max);
          expect(out.length).toBeLessThanOrEqual(max);
          expect(countSmsSegments(out)).toEqual({
            encoding: "GSM-7",
            units: out.length,
            segments: out ? 1 : 0,
          });
          expect(out).toBe(out.trim());
        },
      ),
      { numRuns: 500 },
    );
  });
});
