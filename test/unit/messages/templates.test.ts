import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { InvalidArgumentError } from "../../../src/errors.js";
import {
  countSmsSegments,
  DEFAULT_TEMPLATES,
  escapeHtml,
  renderTokenMessage,
  SMS_OPERATOR_NAME_MAX_UNITS,
  type TemplateInput,
} from "../../../src/messages/index.js";
import { CHANNELS, type Locale } from "../../../src/ports/notifier.js";

const LOCALES: readonly Locale[] = ["pt-BR", "en"];

const base = (overrides: Partial<TemplateInput> = {}): TemplateInput => ({
  code: "123456",
  ttlSeconds: 1800,
  channel: "sms",
  locale: "pt-BR",
  operatorName: "Operadora Exemplo",
  ...overrides,
});

const OPERATOR_NAMES = [
  undefined,
  "",
  "   ",
  "A",
  "Exemplo Saúde",
  "Operadora de Saúde Suplementar São João da Boa Vista do Norte Ltda.",
  "Cooperativa Médica 🏥 Ação",
  "{code}<b>&amp;",
  "x".repeat(500),
  "ã".repeat(300),
];

describe("default templates", () => {
  it("every default SMS template is GSM-7 and one segment for any operator name, code of 4-10 digits, TTL", () => {
    for (const locale of LOCALES) {
      for (const operatorName of OPERATOR_NAMES) {
        for (const digits of [4, 6, 8, 10]) {
          for (const ttlSeconds of [1, 59, 60, 600, 1800, 86_400, 99_999 * 60]) {
            const input = base({ locale, code: "9".repeat(digits), ttlSeconds });
            const { text } = renderTokenMessage(
              operatorName === undefined
                ? { ...input, operatorName: undefined as never }
                : { ...input, operatorName },
            );
            const count = countSmsSegments(text);
            expect({ locale, operatorName, digits, ttlSeconds, ...count }).toEqual({
              locale,
              operatorName,
              digits,
              ttlSeconds,
              encoding: "GSM-7",
              units: count.units,
              segments: 1,
            });
          }
        }
      }
    }
  });

  it("renders the pt-BR SMS exactly", () => {
    expect(renderTokenMessage(base({ operatorName: "Exemplo Saúde" })).text).toBe(
      "Exemplo Saude: token de atendimento 123456, vale 30 min. Informe-o apenas ao atendente, na hora do atendimento. Pedido desconhecido? Avise-nos.",
    );
  });

  it("cuts the operator name in an SMS to the documented length", () => {
    const { text } = renderTokenMessage(base({ operatorName: "Operadora de Saúde Suplementar São João" }));
    const name = text.slice(0, text.indexOf(":"));
    expect(name).toBe("Operadora de Saude");
    expect(name.length).toBeLessThanOrEqual(SMS_OPERATOR_NAME_MAX_UNITS);
  });

  it("every default in both locales says the four things and carries no link", () => {
    const phrases: Record<Locale, { attendant: RegExp; report: RegExp }> = {
      "pt-BR": { attendant: /apenas ao atendente/, report: /[Aa]vise/ },
      en: { attendant: /only to the attendant/, report: /[Rr]eport/ },
    };
    for (const locale of LOCALES) {
      for (const channel of CHANNELS) {
        const r = renderTokenMessage(base({ locale, channel, code: "482913", ttlSeconds: 900 }));
        for (const part of [r.text, r.html]) {
          expect(part).toContain("482913");
          expect(part).toMatch(/\b15 min/);
          expect(part).toMatch(phrases[locale].attendant);
          expect(part).toMatch(phrases[locale].report);
          expect(part).not.toMatch(/https?:|www\.|:\/\//i);
        }
        expect(r.subject).not.toContain("\n");
        expect(r.subject.length).toBeGreaterThan(0);
      }
    }
  });

  it("keeps the built-in templates frozen", () => {
    expect(Object.isFrozen(DEFAULT_TEMPLATES)).toBe(true);
    expect(Object.isFrozen(DEFAULT_TEMPLATES["pt-BR"])).toBe(true);
  });
});

describe("renderTokenMessage", () => {
  it("rounds the validity up to whole minutes, at least 1", () => {
    const minutes = (ttlSeconds: number) =>
      /(\d+) min/.exec(renderTokenMessage(base({ ttlSeconds })).text)?.[1];
    expect(minutes(1)).toBe("1");
    expect(minutes(60)).toBe("1");
    expect(minutes(61)).toBe("2");
    expect(minutes(1799)).toBe("30");
    expect(minutes(1800)).toBe("30");
    expect(minutes(1801)).toBe("31");
  });

  it("escapes the operator name and the code in HTML and leaves the text as given", () => {
    const operatorName = `<script>alert("x")</script> & 'Co'`;
    const r = renderTokenMessage(base({ channel: "email", operatorName, code: "<b>1" }));
    expect(r.html).not.toContain("<script>");
    expect(r.html).not.toContain("<b>1");
    expect(r.html).toContain("&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;Co&#39;");
    expect(r.html).toContain("&lt;b&gt;1");
    expect(r.text).toContain(operatorName);
    expect(r.subject).toContain(operatorName);
  });

  it("derives the HTML of a channel without one from its text, escaped", () => {
    const r = renderTokenMessage(base({ channel: "app", operatorName: "<i>" }));
    expect(r.html.startsWith("<p>")).toBe(true);
    expect(r.html).toContain("123456");
  });

  it("keeps the subject on one line (no header injection through the operator name)", () => {
    const r = renderTokenMessage(base({ channel: "email", operatorName: "Exemplo\r\nBcc: x@example.org" }));
    expect(r.subject).toBe("Exemplo Bcc: x@example.org: seu token de atendimento");
  });

  it("uses the locale's default operator name when none is given", () => {
    const { operatorName: _omit, ...rest } = base({ channel: "email" });
    expect(renderTokenMessage(rest).subject).toBe("Plano de saúde: seu token de atendimento");
    expect(renderTokenMessage({ ...rest, locale: "en" }).subject).toBe("Health plan: your attendance token");
  });

  it("applies overrides per locale and channel and leaves the others alone", () => {
    const overrides = { "pt-BR": { sms: { text: "Codigo {code} ({minutes} min) - {operator}" } } };
    expect(renderTokenMessage(base(), overrides).text).toBe("Codigo 123456 (30 min) - Operadora Exemplo");
    expect(renderTokenMessage(base({ locale: "en" }), overrides).text).toContain("attendance token 123456");
    expect(renderTokenMessage(base({ channel: "app" }), overrides).text).toContain("Seu token é 123456");
  });

  it("derives the HTML from an overriding text that comes without HTML", () => {
    const r = renderTokenMessage(base({ channel: "email" }), {
      "pt-BR": { email: { text: "Token {code} de {operator}" } },
    });
    expect(r.html).toBe("<p>Token 123456 de Operadora Exemplo</p>");
    expect(r.subject).toBe("Operadora Exemplo: seu token de atendimento");
  });

  it("refuses an unknown placeholder, naming the field", () => {
    const call = () => renderTokenMessage(base(), { "pt-BR": { sms: { text: "{code} {cpf}" } } });
    expect(call).toThrow(InvalidArgumentError);
    try {
      call();
    } catch (e) {
      expect((e as InvalidArgumentError).issues[0]?.path).toBe("text");
      expect((e as Error).message).not.toContain("123456");
    }
  });

  it("refuses invalid input with every issue listed", () => {
    try {
      renderTokenMessage({ code: "", ttlSeconds: 0, channel: "fax" as never, locale: "fr" as never });
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(InvalidArgumentError);
      expect((e as InvalidArgumentError).issues.map((i) => i.path)).toEqual([
        "code",
        "ttlSeconds",
        "channel",
        "locale",
      ]);
    }
    expect(() => renderTokenMessage(base({ ttlSeconds: Number.NaN }))).toThrow(InvalidArgumentError);
  });

  it("never lets an operator name inject markup into the HTML", () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 60 }), (operatorName) => {
        const r = renderTokenMessage(base({ channel: "email", operatorName }));
        // The template's own markup, identical whatever the name; only the escaped name differs.
        const reference = renderTokenMessage(base({ channel: "email", operatorName: "OPERATORMARK" })).html;
        const shown = escapeHtml(operatorName.trim() || "Plano de saúde");
        expect(r.html).toBe(reference.split("OPERATORMARK").join(shown));
      }),
      { numRuns: 300 },
    );
  });
});

describe("escapeHtml", () => {
  it("leaves no HTML-significant character and round-trips", () => {
    const unescapeHtml = (s: string) =>
      s
        .replace(/&lt;/g, "<")
        .replace(/&gt;/g, ">")
        .replace(/&quot;/g, '"')
        .replace(/&#39;/g, "'")
        .replace(/&amp;/g, "&");
    fc.assert(
      fc.property(fc.string(), (s) => {
        const escaped = escapeHtml(s);
        expect(/[<>"']/.test(escaped)).toBe(false);
        expect(unescapeHtml(escaped)).toBe(s);
      }),
    );
  });
});
