/**
 * The RFC 9457 problem documents of `health-token/http`: one `type` URI per kind of failure, its status and
 * its title in Portuguese (the default) and English.
 *
 * @module
 */

/** The languages of the problem titles: Brazilian Portuguese (the default) and English. */
export type HttpLocale = "pt-BR" | "en";

/** The base of every problem `type` URI; the slug follows, as in `…/problems/payload-too-large`. */
export const PROBLEM_TYPE_BASE = "https://health-token.dev/problems/";

/** One kind of problem: its HTTP status and its localized titles. */
export interface ProblemKind {
  /** The HTTP status. */
  readonly status: number;
  /** The title, by language. */
  readonly title: Readonly<Record<HttpLocale, string>>;
}

/**
 * Every problem the handlers answer with, by slug (the last segment of its `type` URI). Match on `type`,
 * never on `title`: titles are translated.
 *
 * @example
 * ```ts
 * const res = await attendant(request);
 * const problem = await res.json();
 * if (problem.type === PROBLEM_TYPE_BASE + "token-rejected") showAttemptsLeft(problem.attemptsLeft);
 * ```
 */
export const PROBLEM_KINDS = Object.freeze({
  unauthenticated: { status: 401, title: { "pt-BR": "Não autenticado", en: "Not authenticated" } },
  "not-found": { status: 404, title: { "pt-BR": "Não encontrado", en: "Not found" } },
  "method-not-allowed": {
    status: 405,
    title: { "pt-BR": "Método não permitido", en: "Method not allowed" },
  },
  "payload-too-large": {
    status: 413,
    title: { "pt-BR": "Corpo da requisição grande demais", en: "Request body too large" },
  },
  "unsupported-media-type": {
    status: 415,
    title: { "pt-BR": "Tipo de conteúdo não suportado", en: "Unsupported media type" },
  },
  "malformed-json": { status: 400, title: { "pt-BR": "JSON malformado", en: "Malformed JSON" } },
  "invalid-request": { status: 400, title: { "pt-BR": "Requisição inválida", en: "Invalid request" } },
  "guide-transition": {
    status: 409,
    title: { "pt-BR": "Transição da guia recusada", en: "Guide transition refused" },
  },
  "guide-conflict": {
    status: 409,
    title: { "pt-BR": "A guia mudou; recarregue", en: "The guide changed; reload it" },
  },
  "attendance-refused": {
    status: 409,
    title: { "pt-BR": "Atendimento recusado", en: "Attendance step refused" },
  },
  "token-rejected": { status: 422, title: { "pt-BR": "Token recusado", en: "Token rejected" } },
  "recipient-unavailable": {
    status: 422,
    title: { "pt-BR": "Nenhum destinatário para o token", en: "Nobody can receive the token" },
  },
  "rate-limited": {
    status: 429,
    title: { "pt-BR": "Muitas requisições; aguarde", en: "Too many requests" },
  },
  "locked-out": {
    status: 429,
    title: { "pt-BR": "Bloqueado por tentativas erradas", en: "Locked out after failed attempts" },
  },
  "delivery-failed": {
    status: 502,
    title: { "pt-BR": "Falha no envio do token", en: "The token could not be delivered" },
  },
  "store-unavailable": {
    status: 503,
    title: { "pt-BR": "Serviço indisponível", en: "Service unavailable" },
  },
  internal: { status: 500, title: { "pt-BR": "Erro interno", en: "Internal error" } },
} satisfies Record<string, ProblemKind>);

/** The slug of a problem kind. */
export type ProblemSlug = keyof typeof PROBLEM_KINDS;

/**
 * An RFC 9457 problem document as the handlers send it (`application/problem+json`). Extension members
 * (`issues`, `reason`, `attemptsLeft`, `retryAfterSeconds`, `allow`, `limitBytes`, …) depend on the type.
 *
 * @example
 * ```ts
 * const problem: ProblemDocument = await res.json();
 * console.log(problem.status, problem.title); // 413 "Corpo da requisição grande demais"
 * ```
 */
export interface ProblemDocument {
  /** `PROBLEM_TYPE_BASE` + the slug. */
  readonly type: string;
  /** The localized title. */
  readonly title: string;
  /** The HTTP status. */
  readonly status: number;
  /** What went wrong in this occurrence (English, no personal data). */
  readonly detail?: string;
  /** Extension members. */
  readonly [extension: string]: unknown;
}

/**
 * The language of a request: the first of `Accept-Language`'s ranges (by quality) that is Portuguese or
 * English; Portuguese when none is.
 *
 * @example
 * ```ts
 * negotiateLocale("en-US,en;q=0.9"); // "en"
 * negotiateLocale(null); // "pt-BR"
 * ```
 */
export function negotiateLocale(acceptLanguage: string | null | undefined): HttpLocale {
  if (typeof acceptLanguage !== "string") return "pt-BR";
  if (!acceptLanguage) return "pt-BR";
  const ranges = acceptLanguage
    .slice(0, 512)
    .split(",")
    .map((part, index) => {
      const [tag = "", ...params] = part.trim().toLowerCase().split(";");
      const q = params.map((p) => /^\s*q=([01](?:\.\d{0,3})?)\s*$/.exec(p)?.[1]).find(Boolean);
      return { tag: tag.trim(), q: q === undefined ? 1 : Number(q), index };
    })
    .filter((r) => r.q > 0)
    .sort((a, b) => b.q - a.q || a.index - b.index);
  for (const { tag } of ranges) {
    if (tag === "pt" || tag.startsWith("pt-")) return "pt-BR";
    if (tag === "en" || tag.startsWith("en-")) return "en";
  }
  return "pt-BR";
}
