/**
 * The beneficiary's endpoints (the operator's app): the history of codes, "I did not request this code",
 * and app-mode enrollment.
 *
 * @module
 */
import { z } from "zod";
import { ConfigError } from "../errors.js";
import type { TokenService } from "../service/token-service.js";
import { _readJson } from "./_body.js";
import { _json } from "./_problem.js";
import { _createHandler, _limitOf, type FetchHandler, type HandlerOptions } from "./handler.js";

/** Who is using the app: the beneficiary (an opaque id, never a CPF). */
export interface BeneficiaryIdentity {
  /** The beneficiary's opaque id, as given to the token service. */
  readonly beneficiaryId: string;
}

/** Options of {@link createBeneficiaryHandler}. */
export interface BeneficiaryHandlerOptions extends HandlerOptions<BeneficiaryIdentity> {
  /** The token service. */
  readonly tokens: TokenService;
}

const reportBody = z.union([
  z.strictObject({ guideId: z.string().min(1).max(128) }),
  z.strictObject({ reportRef: z.string().min(1).max(600) }),
]);
const enrollBody = z.strictObject({});
const BEFORE = /^[\w-]{1,128}$/;

/**
 * The beneficiary's endpoints as one Fetch-standard handler; every route needs `authenticate` to return
 * the beneficiary, and only their own history is ever shown.
 *
 * | method and path | body | answer |
 * |---|---|---|
 * | `GET /history?before=` | | `{ events }`, newest first, masked contacts |
 * | `POST /report-unrequested` | `{ guideId }` or `{ reportRef }` (from the message) | `{ revoked, tokenId? }` |
 * | `POST /app/enroll` | `{}` | 201 `{ secret, otpauthUri }`, shown once |
 *
 * @example
 * ```ts
 * const beneficiary = createBeneficiaryHandler({
 *   tokens,
 *   authenticate: async (req) => appSessions.beneficiaryOf(req.headers.get("authorization")),
 *   basePath: "/api/me",
 * });
 * ```
 */
export function createBeneficiaryHandler(options: BeneficiaryHandlerOptions): FetchHandler {
  for (const name of ["tokens", "authenticate"] as const) {
    if (!options?.[name]) throw new ConfigError(`createBeneficiaryHandler needs ${name}`, { scope: "http" });
  }
  const { tokens } = options;
  const limit = _limitOf(options as HandlerOptions<unknown>);
  return _createHandler(options, [
    {
      method: "GET",
      path: "/history",
      run: async ({ request, auth }) => {
        const before = new URL(request.url).searchParams.get("before");
        const page = before && BEFORE.test(before) ? { before } : {};
        return _json({ events: await tokens.history(auth.beneficiaryId, { limit: 50, ...page }) });
      },
    },
    {
      method: "POST",
      path: "/report-unrequested",
      run: async ({ request, auth }) => {
        const input = await _readJson(request, reportBody, limit);
        const result = await tokens.reportUnrequested(
          "guideId" in input ? { guideId: input.guideId, beneficiaryId: auth.beneficiaryId } : input,
        );
        return _json(result);
      },
    },
    {
      method: "POST",
      path: "/app/enroll",
      run: async ({ request, auth }) => {
        await _readJson(request, enrollBody, limit);
        return _json(await tokens.enrollApp({ id: auth.beneficiaryId }), 201);
      },
    },
  ]);
}
