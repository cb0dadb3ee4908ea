/**
 * zod 4 schemas for what the guide machine accepts: the input of {@link createGuide}, each event of
 * {@link transition}, the policy, and a whole stored guide (to check one read back from a database).
 * Messages name the rule that failed, never the value (no CPF, card number or code ever appears in one).
 *
 * @module
 */
import { z } from "zod";
import { hasControl, isWellFormed, NOT_WELL_FORMED } from "../_internal/text.js";
import type { ArgumentIssue } from "../errors.js";
import { InvalidArgumentError } from "../errors.js";
import { dayNumberOfDate } from "./_dates.js";
import type { GuideState } from "./states.js";
import { GUIDE_EVENT_TYPES, GUIDE_STATES, GUIDE_TYPES } from "./states.js";
import {
  councilCodeOf,
  ibgeCodeOfUf,
  isValidCbo,
  isValidCpf,
  normalizeCpf,
  TISS_FORMATS,
  TISS_TABLES,
  type TissCboCode,
  type TissCouncilCode,
  type TissUfCode,
} from "./tiss.js";

const NOT_BLANK = /\S/;

/** A non-blank string of 1 to `max` characters. */
const text = (max: number, what: string) =>
  z
    .string({ error: `${what} must be a string` })
    .min(1, { error: `${what} must not be empty` })
    .max(max, { error: `${what} must have at most ${max} characters` })
    .regex(NOT_BLANK, { error: `${what} must not be blank` })
    .refine(isWellFormed, { error: `${what} ${NOT_WELL_FORMED}` });

/** An identifier: a {@link text} without control characters (stores refuse NUL; logs split on CR/LF). */
const identifier = (max: number, what: string) =>
  text(max, what).refine((value) => !hasControl(value), {
    error: `${what} must not contain control characters`,
  });

const digits = (re: RegExp, what: string) =>
  z.string({ error: `${what} must be a string` }).regex(re, { error: `${what} has an invalid format` });

const ms = (what: string) =>
  z
    .int({ error: `${what} must be an integer number of milliseconds` })
    .min(0, { error: `${what} must not be negative` });

const glosas = z
  .array(digits(TISS_FORMATS.glosa, "glosa code (TISS table 38, 4 digits)"), {
    error: "glosas must be an array",
  })
  .min(1, { error: "at least one glosa code is required" })
  .max(50, { error: "at most 50 glosa codes" });

const absenceReason = z.enum(["01", "02", "03", "04", "05", "06", "07"], {
  error: "absence reason must be a TISS table 74 code, 01 to 07",
});

const professionalSchema = z.strictObject({
  council: z
    .string({ error: "council must be a string" })
    .refine((c) => councilCodeOf(c) !== undefined, {
      error: "council must be a dm_conselhoProfissional code (01 to 15) or sigla, such as 06 or CRM",
    })
    .transform((c) => councilCodeOf(c) as TissCouncilCode),
  number: text(15, "council number"),
  uf: z
    .string({ error: "uf must be a string" })
    .refine((u) => ibgeCodeOfUf(u) !== undefined, {
      error: "uf must be a dm_UF code (IBGE, or 98) or a UF sigla, such as 41 or PR",
    })
    .transform((u) => ibgeCodeOfUf(u) as TissUfCode),
  cbo: z
    .string({ error: "CBO must be a string" })
    .refine(isValidCbo, { error: "CBO must be one of the dm_CBOS codes of the TISS schema" })
    .transform((c) => c as TissCboCode),
});

const procedureSchema = z
  .strictObject({
    tuss: text(TISS_FORMATS.procedureCodeMaxLength, "procedure code (codigoProcedimento)"),
    quantity: z
      .int({ error: "quantity must be an integer" })
      .min(1, { error: "quantity must be at least 1" })
      .max(TISS_FORMATS.quantityMax, { error: `quantity must be at most ${TISS_FORMATS.quantityMax}` }),
    table: z
      .enum(TISS_TABLES, {
        error: `table (codigoTabela) must be one of ${TISS_TABLES.join(", ")}`,
      })
      .default("22"),
  })
  .refine((p) => p.table !== "22" || TISS_FORMATS.tuss.test(p.tuss), {
    error: "TUSS code (table 22, 8 digits) has an invalid format",
    path: ["tuss"],
    // Checked even when another field of the procedure failed, so every bad field is listed at once.
    when: (payload) => {
      const v = payload.value as { tuss?: unknown; table?: unknown } | undefined;
      return typeof v?.tuss === "string" && (v.table === undefined || typeof v.table === "string");
    },
  });

const guideCore = <C extends z.ZodType<string, string>>(cpf: C) => ({
  id: identifier(TISS_FORMATS.guideNumberMaxLength, "guide id (numeroGuiaPrestador)"),
  type: z.enum(GUIDE_TYPES, {
    error: "type must be one of consulta, sp_sadt, internacao, odonto, honorarios",
  }),
  character: z.enum(["eletiva", "urgencia"], { error: "character must be eletiva or urgencia" }),
  beneficiary: z.strictObject({
    cardNumber: identifier(TISS_FORMATS.cardNumberMaxLength, "card number"),
    cpf: cpf.optional(),
  }),
  provider: z.strictObject({
    code: identifier(TISS_FORMATS.providerCodeMaxLength, "provider code"),
    professional: professionalSchema.optional(),
  }),
  procedures: z
    .array(procedureSchema, { error: "procedures must be an array" })
    .min(1, { error: "at least one procedure is required" })
    .max(100, { error: "at most 100 procedures" }),
});

/** A guia de consulta carries exactly one procedure (`dadosAtendimento/procedimento`). */
const oneProcedureOnAConsulta = {
  check: (g: { type: string; procedures: readonly unknown[] }) =>
    g.type !== "consulta" || g.procedures.length === 1,
  params: { error: "a consulta guide has exactly one procedure", path: ["procedures"] },
};

/**
 * The input of {@link createGuide}. A CPF may be bare or punctuated; the guide keeps its 11 digits. A council
 * and a UF may be given as TISS code or sigla; the guide keeps the code.
 */
export const guideInputSchema = z
  .strictObject(
    guideCore(
      z
        .string({ error: "CPF must be a string" })
        .refine(isValidCpf, { error: "CPF must have 11 digits with valid check digits" })
        .transform(normalizeCpf),
    ),
  )
  .refine(oneProcedureOnAConsulta.check, oneProcedureOnAConsulta.params);

const validUntil = z
  .string({ error: "validUntil must be a string" })
  .refine((d) => dayNumberOfDate(d) !== undefined, { error: "validUntil must be a real date, YYYY-MM-DD" });

/** The receipt a `confirm` event carries: a `VerificationReceipt` of the token service. */
export const verificationReceiptSchema = z.object({
  tokenId: identifier(200, "receipt tokenId"),
  guideId: identifier(200, "receipt guideId"),
  providerId: identifier(200, "receipt providerId"),
  beneficiaryId: identifier(200, "receipt beneficiaryId"),
  code: text(TISS_FORMATS.codValidacaoMaxLength, "receipt code (codValidacao)"),
  verifiedAtMs: ms("receipt verifiedAtMs"),
  mode: z.enum(["sent", "app"], { error: "receipt mode must be sent or app" }),
});

const absenceSchema = z.strictObject({
  reason: absenceReason,
  justification: text(500, "justification"),
});

/** Every event of {@link transition}, discriminated by `type`. Unknown fields are refused. */
export const guideEventSchema = z.discriminatedUnion(
  "type",
  [
    z.strictObject({ type: z.literal("start_review") }),
    z.strictObject({ type: z.literal("request_justification") }),
    z.strictObject({ type: z.literal("request_documents") }),
    z.strictObject({
      type: z.literal("authorize"),
      senha: text(TISS_FORMATS.senhaMaxLength, "senha"),
      validUntil,
      partial: z.boolean({ error: "partial must be a boolean" }).optional(),
      numeroGuiaOperadora: text(TISS_FORMATS.guideNumberMaxLength, "numeroGuiaOperadora").optional(),
    }),
    z.strictObject({ type: z.literal("deny"), glosas }),
    z.strictObject({ type: z.literal("cancel") }),
    z
      .strictObject({
        type: z.literal("confirm"),
        receipt: verificationReceiptSchema.optional(),
        absence: absenceSchema.optional(),
      })
      .refine((e) => !(e.receipt && e.absence), {
        error: "confirm takes a receipt or an absence reason, not both",
        path: ["absence"],
      }),
    z.strictObject({ type: z.literal("bill"), batchId: text(TISS_FORMATS.batchIdMaxLength, "batchId") }),
    z.strictObject({ type: z.literal("pay") }),
    z.strictObject({ type: z.literal("disallow"), glosas }),
    z.strictObject({ type: z.literal("appeal"), justification: text(500, "justification").optional() }),
    z.strictObject({ type: z.literal("expire") }),
  ],
  { error: `type must be one of ${GUIDE_EVENT_TYPES.join(", ")}` },
);

/** The day-based policy of the guide machine. */
export const guidePolicySchema = z.strictObject({
  billingWindowDays: z
    .int({ error: "billingWindowDays must be an integer" })
    .min(1, { error: "billingWindowDays must be at least 1" })
    .max(3650, { error: "billingWindowDays must be at most 3650" })
    .optional(),
  returnWindowDays: z
    .int({ error: "returnWindowDays must be an integer" })
    .min(0, { error: "returnWindowDays must not be negative" })
    .max(365, { error: "returnWindowDays must be at most 365" })
    .optional(),
});

const AUTHORIZED_OR_LATER: readonly GuideState[] = [
  "authorized",
  "partially_authorized",
  "confirmed",
  "billed",
  "paid",
  "disallowed",
  "appealed",
];
const CONFIRMED_OR_LATER: readonly GuideState[] = ["confirmed", "billed", "paid", "disallowed", "appealed"];
const BILLED_OR_LATER: readonly GuideState[] = ["billed", "paid", "disallowed", "appealed"];

/**
 * A whole guide, as {@link createGuide} and {@link transition} produce it. {@link transition} checks its
 * input with it, so a guide read back from storage and tampered with (a `confirmed` state without a
 * confirmation, say) is refused instead of billed.
 */
export const guideSchema = z
  .strictObject({
    ...guideCore(
      z.string({ error: "CPF must be a string" }).refine((v) => /^\d{11}$/.test(v) && isValidCpf(v), {
        error: "CPF must have 11 digits with valid check digits",
      }),
    ),
    state: z.enum(GUIDE_STATES, { error: "state must be a guide state" }),
    authorization: z
      .strictObject({
        senha: text(TISS_FORMATS.senhaMaxLength, "senha"),
        validUntil,
        partial: z.boolean({ error: "partial must be a boolean" }),
        numeroGuiaOperadora: text(TISS_FORMATS.guideNumberMaxLength, "numeroGuiaOperadora").optional(),
        atMs: ms("atMs"),
      })
      .optional(),
    denial: z.strictObject({ glosas, atMs: ms("atMs") }).optional(),
    confirmation: z
      .discriminatedUnion(
        "kind",
        [
          z.strictObject({
            kind: z.literal("token"),
            atMs: ms("atMs"),
            codValidacao: text(TISS_FORMATS.codValidacaoMaxLength, "codValidacao"),
            tokenId: text(200, "tokenId"),
            beneficiaryId: text(200, "beneficiaryId"),
            verifiedAtMs: ms("verifiedAtMs"),
            mode: z.enum(["sent", "app"], { error: "mode must be sent or app" }),
          }),
          z.strictObject({
            kind: z.literal("absence"),
            atMs: ms("atMs"),
            reason: absenceReason,
            justification: text(500, "justification"),
          }),
          z.strictObject({ kind: z.literal("not_required"), atMs: ms("atMs") }),
        ],
        { error: "confirmation kind must be token, absence or not_required" },
      )
      .optional(),
    billing: z
      .strictObject({ batchId: text(TISS_FORMATS.batchIdMaxLength, "batchId"), atMs: ms("atMs") })
      .optional(),
    disallowance: z.strictObject({ glosas, atMs: ms("atMs") }).optional(),
    appeal: z
      .strictObject({ justification: text(500, "justification").optional(), atMs: ms("atMs") })
      .optional(),
    payment: z.strictObject({ atMs: ms("atMs") }).optional(),
    history: z.array(
      z.strictObject({
        from: z.enum(GUIDE_STATES, { error: "from must be a guide state" }),
        to: z.enum(GUIDE_STATES, { error: "to must be a guide state" }),
        event: z.enum(GUIDE_EVENT_TYPES, { error: "event must be a guide event type" }),
        atMs: ms("atMs"),
      }),
      { error: "history must be an array" },
    ),
  })
  .superRefine((g, ctx) => {
    if (!oneProcedureOnAConsulta.check(g)) {
      ctx.addIssue({ code: "custom", path: ["procedures"], message: oneProcedureOnAConsulta.params.error });
    }
    const need = (field: string, states: readonly GuideState[], present: boolean) => {
      if (states.includes(g.state) && !present) {
        ctx.addIssue({ code: "custom", path: [field], message: `${field} is required in state ${g.state}` });
      }
    };
    need("authorization", AUTHORIZED_OR_LATER, g.authorization !== undefined);
    need("confirmation", CONFIRMED_OR_LATER, g.confirmation !== undefined);
    need("billing", BILLED_OR_LATER, g.billing !== undefined);
    if (g.authorization && (g.state === "authorized" || g.state === "partially_authorized")) {
      if (g.authorization.partial !== (g.state === "partially_authorized")) {
        ctx.addIssue({
          code: "custom",
          path: ["authorization", "partial"],
          message: "does not match the state",
        });
      }
    }
    const last = g.history[g.history.length - 1];
    if ((last ? last.to : "requested") !== g.state) {
      ctx.addIssue({ code: "custom", path: ["history"], message: "does not end in the guide's state" });
    }
  });

/** Maps zod issues to {@link ArgumentIssue}s: a dotted path and the message (one issue per unknown key). */
export function toArgumentIssues(error: z.ZodError, prefix = ""): ArgumentIssue[] {
  const out: ArgumentIssue[] = [];
  const join = (parts: readonly PropertyKey[]) =>
    [prefix, ...parts.map(String)].filter((p) => p !== "").join(".");
  for (const issue of error.issues) {
    if (issue.code === "unrecognized_keys") {
      for (const key of issue.keys) out.push({ path: join([...issue.path, key]), message: "unknown field" });
    } else {
      out.push({ path: join(issue.path), message: issue.message });
    }
  }
  return out;
}

/** A deep copy without `undefined`-valued keys, so a parsed value survives a JSON round trip unchanged. */
function withoutUndefined<T>(value: T): T {
  if (Array.isArray(value)) return value.map(withoutUndefined) as T;
  if (value !== null && typeof value === "object") {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) if (v !== undefined) out[k] = withoutUndefined(v);
    return out as T;
  }
  return value;
}

/**
 * Parses `value` with `schema` or throws an {@link InvalidArgumentError} listing every bad field (the first
 * message of each path). The result carries no `undefined`-valued keys.
 */
export function parseOrThrow<S extends z.ZodType>(
  schema: S,
  value: unknown,
  what: string,
  prefix = "",
): z.output<S> {
  const result = schema.safeParse(value);
  if (result.success) return withoutUndefined(result.data);
  const issues: ArgumentIssue[] = [];
  for (const issue of toArgumentIssues(result.error, prefix)) {
    if (!issues.some((i) => i.path === issue.path)) issues.push(issue);
  }
  throw new InvalidArgumentError(
    `invalid ${what}: ${issues.map((i) => i.path || "(root)").join(", ")}`,
    issues,
  );
}
