/**
 * A reference HTTP backend on Hono: the endpoints an attendant portal and a beneficiary app need, on top of
 * the health-token attendance desk (which owns the order of the steps: no guard is written here).
 *
 * - Attendant portal (the provider identifies itself with `x-provider-code`; put your real authentication
 *   there): create a guide, authorize it (standing in for the operator), list the beneficiary's masked
 *   contacts, issue a token, verify the code and confirm the guide, confirm without a token (TISS table 74),
 *   bill, cancel.
 * - Beneficiary app: the history of their codes, and "I did not request this code" (by the message's
 *   report reference, or by guide).
 *
 * Inputs are validated with zod; every error is an RFC 9457 problem document (`application/problem+json`).
 * Guides live in the desk's repository (memory by default; `PostgresGuideRepository` in production) and
 * beneficiaries in a Map standing in for the operator's registry.
 */
import { Hono } from "hono";
import { z } from "zod";
import {
  type AbsenceReasonCode,
  type Attendance,
  type Clock,
  createAttendanceDesk,
  type GuideInput,
  type GuideRepository,
  InvalidArgumentError,
  isHealthTokenError,
  MemoryGuideRepository,
  type PersonInput,
  TISS_ABSENCE_REASONS,
  type TokenService,
  toTissStatus,
  toTissValidation,
} from "../../src/index.js";
import { type ReceiptSecrets, receiptsHandler } from "../receipts.js";

/** A beneficiary as the operator's registry knows them, with the guardian who receives a minor's codes. */
export interface RegistryEntry {
  readonly person: PersonInput;
  readonly guardianId?: string;
}

/** What the app needs. */
export interface AppDeps {
  readonly tokens: TokenService;
  readonly clock: Clock;
  /** The operator's beneficiary registry, by beneficiary id. */
  readonly registry: ReadonlyMap<string, RegistryEntry>;
  /** Where the guides live (default: a `MemoryGuideRepository`). */
  readonly guides?: GuideRepository;
  /** The providers' callback secrets: when given, `/receipts/{whatsapp,twilio,zenvia}` apply delivery receipts. */
  readonly receipts?: ReceiptSecrets;
}

/** An RFC 9457 problem document. */
interface Problem {
  type: string;
  title: string;
  status: number;
  detail?: string;
  code?: string;
  [extension: string]: unknown;
}

class HttpProblem extends Error {
  constructor(readonly problem: Problem) {
    super(problem.title);
  }
}

const notFound = (what: string) =>
  new HttpProblem({ type: "about:blank", title: "Not Found", status: 404, detail: `${what} not found` });

/** Maps every library error to a status code; the error's `code` becomes the problem type. */
function toProblem(error: unknown): Problem {
  if (error instanceof HttpProblem) return error.problem;
  // isHealthTokenError, not instanceof: it also recognises an error of the other build (ESM/CommonJS) or copy.
  if (isHealthTokenError(error)) {
    const base = { type: `https://health-token.dev/problems/${error.code.toLowerCase()}`, code: error.code };
    const detail = error.message.replace(/^\[health-token\] (\[[^\]]+\] )?/, "");
    if (isHealthTokenError(error, "INVALID_ARGUMENT"))
      return { ...base, title: "Invalid request", status: 400, detail, issues: error.issues };
    if (isHealthTokenError(error, "GUIDE_NOT_FOUND"))
      return { ...base, title: "Not Found", status: 404, detail };
    if (isHealthTokenError(error, "ATTENDANCE_REFUSED"))
      return {
        ...base,
        title: "Attendance step refused",
        status: 409,
        detail,
        state: error.state,
        reason: error.reason,
      };
    if (isHealthTokenError(error, "GUIDE_TRANSITION"))
      return {
        ...base,
        title: "Guide transition refused",
        status: 409,
        detail,
        state: error.state,
        reason: error.reason,
      };
    if (isHealthTokenError(error, "RATE_LIMITED"))
      return {
        ...base,
        title: "Too many requests",
        status: 429,
        detail,
        retryAfterSeconds: error.retryAfterSeconds,
      };
    if (isHealthTokenError(error, "LOCKED_OUT"))
      return {
        ...base,
        title: "Locked out",
        status: 429,
        detail,
        retryAfterSeconds: error.retryAfterSeconds,
      };
    const status: Record<string, number> = {
      RECIPIENT_UNAVAILABLE: 422,
      DELIVERY_FAILED: 502,
      STORE_UNAVAILABLE: 503,
      GUIDE_CONFLICT: 409,
      CONFIG: 500,
    };
    return { ...base, title: error.name, status: status[error.code] ?? 500, detail };
  }
  return { type: "about:blank", title: "Internal Server Error", status: 500 };
}

const authorizeBody = z.object({
  senha: z.string(),
  validUntil: z.string(),
  partial: z.boolean().optional(),
});
const issueBody = z.object({ contactId: z.string().optional() });
const confirmBody = z.union([
  z.object({ code: z.string() }).strict(),
  z
    .object({
      absence: z.object({
        reason: z.enum(Object.keys(TISS_ABSENCE_REASONS) as [AbsenceReasonCode, ...AbsenceReasonCode[]]),
        justification: z.string(),
      }),
    })
    .strict(),
]);
const billBody = z.object({ batchId: z.string() });
const reportBody = z.union([
  z.object({ guideId: z.string() }).strict(),
  z.object({ reportRef: z.string() }).strict(),
]);

/** Parses a JSON body with a zod schema; failures become an InvalidArgumentError listing each field. */
async function body<T>(req: Request, schema: z.ZodType<T>): Promise<T> {
  let json: unknown;
  try {
    json = await req.json();
  } catch {
    throw new InvalidArgumentError("the body is not JSON");
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success) {
    throw new InvalidArgumentError(
      "invalid body",
      parsed.error.issues.map((i) => ({ path: i.path.join("."), message: i.message })),
    );
  }
  return parsed.data;
}

/** The attendance with the TISS fields of its guide, for the portal. */
function view(attendance: Attendance) {
  const { guide } = attendance;
  return {
    guide,
    version: attendance.version,
    canRequestToken: attendance.canRequestToken,
    canConfirm: attendance.canConfirm,
    tiss: { statusSolicitacao: toTissStatus(guide), validation: toTissValidation(guide) ?? null },
  };
}

/** Builds the Hono app. */
export function createApp({ tokens, clock, registry, guides, receipts }: AppDeps): Hono {
  const app = new Hono();
  if (receipts !== undefined) {
    // The status webhooks of WhatsApp, Twilio and Zenvia, signed and checked (docs/delivery.md).
    const handle = receiptsHandler(tokens, receipts);
    app.all("/receipts/*", (c) => handle(c.req.raw));
  }
  const desk = createAttendanceDesk({ tokens, guides: guides ?? new MemoryGuideRepository(), clock });

  const person = (id: string) => {
    const entry = registry.get(id);
    if (!entry) throw notFound("beneficiary");
    return entry;
  };
  const guideFor = async (id: string, providerCode: string | undefined) => {
    const found = await desk.get(id);
    if (providerCode !== found.guide.provider.code) throw notFound("guide"); // another provider's guide
    return found;
  };

  app.onError((error, c) => {
    const problem = toProblem(error);
    const headers: Record<string, string> = { "content-type": "application/problem+json" };
    if (typeof problem.retryAfterSeconds === "number")
      headers["retry-after"] = String(problem.retryAfterSeconds);
    return c.body(JSON.stringify(problem), problem.status as 400, headers);
  });
  app.notFound(() => {
    throw notFound("route");
  });

  // Attendant portal -------------------------------------------------------------------------------------
  app.post("/guides", async (c) => {
    const input = await body(
      c.req.raw,
      z.object({ beneficiaryId: z.string(), guide: z.record(z.string(), z.unknown()) }),
    );
    person(input.beneficiaryId);
    const guide = input.guide as unknown as GuideInput;
    if (c.req.header("x-provider-code") !== guide.provider?.code) throw notFound("provider");
    return c.json(view(await desk.open({ guide, beneficiaryId: input.beneficiaryId })), 201);
  });

  // Stands in for the operator's authorization system.
  app.post("/guides/:id/authorize", async (c) => {
    const { guide } = await guideFor(c.req.param("id"), c.req.header("x-provider-code"));
    const input = await body(c.req.raw, authorizeBody);
    return c.json(
      view(
        await desk.authorize({
          guideId: guide.id,
          senha: input.senha,
          validUntil: input.validUntil,
          ...(input.partial === undefined ? {} : { partial: input.partial }),
        }),
      ),
    );
  });

  app.get("/guides/:id/contacts", async (c) => {
    const { beneficiaryId } = await guideFor(c.req.param("id"), c.req.header("x-provider-code"));
    const entry = person(beneficiaryId);
    const guardian = entry.guardianId ? person(entry.guardianId).person : undefined;
    return c.json({ contacts: tokens.listContacts(entry.person, guardian) });
  });

  app.post("/guides/:id/token", async (c) => {
    const { guide, beneficiaryId } = await guideFor(c.req.param("id"), c.req.header("x-provider-code"));
    const input = await body(c.req.raw, issueBody);
    const entry = person(beneficiaryId);
    const { issued } = await desk.requestToken({
      guideId: guide.id,
      beneficiary: entry.person,
      ...(entry.guardianId ? { guardian: person(entry.guardianId).person } : {}),
      ...(input.contactId ? { contactId: input.contactId } : {}),
    });
    return c.json(issued, 201);
  });

  app.post("/guides/:id/confirm", async (c) => {
    const { guide } = await guideFor(c.req.param("id"), c.req.header("x-provider-code"));
    const input = await body(c.req.raw, confirmBody);
    const target = { guideId: guide.id, providerId: guide.provider.code };
    if ("code" in input) {
      const result = await desk.confirm({ ...target, code: input.code });
      if (!result.ok) {
        throw new HttpProblem({
          type: "https://health-token.dev/problems/token_rejected",
          title: "Token rejected",
          status: 422,
          reason: result.reason,
          ...(result.attemptsLeft === undefined ? {} : { attemptsLeft: result.attemptsLeft }),
        });
      }
      return c.json(view(result.attendance));
    }
    return c.json(view(await desk.confirmWithoutToken({ ...target, absence: input.absence })));
  });

  app.post("/guides/:id/bill", async (c) => {
    const { guide } = await guideFor(c.req.param("id"), c.req.header("x-provider-code"));
    const input = await body(c.req.raw, billBody);
    return c.json(view(await desk.bill({ guideId: guide.id, batchId: input.batchId })));
  });

  app.post("/guides/:id/cancel", async (c) => {
    const { guide } = await guideFor(c.req.param("id"), c.req.header("x-provider-code"));
    return c.json(view(await desk.cancel({ guideId: guide.id })));
  });

  app.get("/guides/:id", async (c) =>
    c.json(view(await guideFor(c.req.param("id"), c.req.header("x-provider-code")))),
  );

  // Beneficiary app (authenticate the beneficiary in production; here the id is in the path) -------------
  app.get("/beneficiaries/:id/history", async (c) => {
    person(c.req.param("id"));
    const before = c.req.query("before");
    const events = await tokens.history(c.req.param("id"), { limit: 50, ...(before ? { before } : {}) });
    return c.json({ events });
  });

  app.post("/beneficiaries/:id/report-unrequested", async (c) => {
    const beneficiaryId = c.req.param("id");
    person(beneficiaryId);
    const input = await body(c.req.raw, reportBody);
    // The message's report reference resolves to its guide and beneficiary without any lookup here.
    if ("reportRef" in input) return c.json(await tokens.reportUnrequested({ reportRef: input.reportRef }));
    const found = await desk.get(input.guideId).catch(() => undefined);
    if (!found || found.beneficiaryId !== beneficiaryId) throw notFound("guide");
    return c.json(await tokens.reportUnrequested({ guideId: input.guideId, beneficiaryId }));
  });

  return app;
}
