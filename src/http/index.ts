/**
 * `health-token/http`: framework-neutral handlers on the Fetch standard, `(request: Request) =>
 * Promise<Response>`, for the attendant's portal and the beneficiary's app, on the attendance desk. Mount them
 * in Hono (`app.all("/api/attendant/*", (c) => attendant(c.req.raw))`), in Deno, Bun or a worker directly,
 * and in node:http or Express through a small adapter (see the HTTP guide).
 *
 * Every endpoint needs the `authenticate` hook (no built-in authentication). Bodies are limited while they
 * stream (413), must be JSON (415), must match the endpoint's schema, unknown fields refused (400); a wrong
 * method gets 405 with `Allow`. Every error is an RFC 9457 problem document with a `type` from
 * {@link PROBLEM_KINDS} and a title in Portuguese (default) or English (`Accept-Language`).
 *
 * @example
 * ```ts
 * import { createAttendantHandler, createBeneficiaryHandler } from "health-token/http";
 *
 * const attendant = createAttendantHandler({ desk, tokens, people, authenticate: providerOf });
 * const beneficiary = createBeneficiaryHandler({ tokens, authenticate: beneficiaryOf });
 * ```
 *
 * @module
 */

export {
  type AttendancePeople,
  type AttendantHandlerOptions,
  type AttendantIdentity,
  createAttendantHandler,
} from "./attendant.js";
export {
  type BeneficiaryHandlerOptions,
  type BeneficiaryIdentity,
  createBeneficiaryHandler,
} from "./beneficiary.js";
export type { FetchHandler, HandlerOptions } from "./handler.js";
export {
  type HttpLocale,
  negotiateLocale,
  PROBLEM_KINDS,
  PROBLEM_TYPE_BASE,
  type ProblemDocument,
  type ProblemKind,
  type ProblemSlug,
} from "./problems.js";
