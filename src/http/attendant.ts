/**
 * The attendant's endpoints (the provider's portal), on the attendance desk.
 *
 * @module
 */
import { z } from "zod";
import { ConfigError } from "../errors.js";
import type { Guide } from "../guide/states.js";
import {
  type AbsenceReasonCode,
  TISS_ABSENCE_REASONS,
  toTissStatus,
  toTissValidation,
} from "../guide/tiss.js";
import type { Attendance, AttendanceDesk } from "../service/attendance/index.js";
import type { PersonInput } from "../service/delivery.js";
import type { TokenService } from "../service/token-service.js";
import { _readJson } from "./_body.js";
import { _HttpFailure, _json } from "./_problem.js";
import { _createHandler, _limitOf, type FetchHandler, type HandlerOptions } from "./handler.js";

/** Who is at the desk: the provider whose guides this attendant may see and confirm. */
export interface AttendantIdentity {
  /** The provider's code at the operator (`codigoPrestadorNaOperadora`); only its guides are visible. */
  readonly providerCode: string;
}

/** The people of one attendance, from the operator's registry. */
export interface AttendancePeople {
  /** The beneficiary, with their registered contacts. */
  readonly beneficiary: PersonInput;
  /** The guardian (or holder) who receives a minor's code. */
  readonly guardian?: PersonInput | undefined;
}

/** Options of {@link createAttendantHandler}. */
export interface AttendantHandlerOptions extends HandlerOptions<AttendantIdentity> {
  /** The attendance desk. */
  readonly desk: AttendanceDesk;
  /** Its token service (contacts, history). */
  readonly tokens: TokenService;
  /** The beneficiary (and guardian) of an attendance, by beneficiary id; `undefined` when unknown. */
  readonly people: (beneficiaryId: string) => Promise<AttendancePeople | undefined>;
  /**
   * The delivery status of a guide's code (pass `tokens.deliveryStatus` when your service has it). Without
   * it, the status is read from the beneficiary's history: the guide's latest issue or delivery event.
   */
  readonly deliveryStatus?: ((guideId: string) => Promise<unknown>) | undefined;
  /** The TISS fields shown with a guide (default: `statusSolicitacao` and `toTissValidation`). */
  readonly tissFields?: ((guide: Guide) => unknown) | undefined;
}

const ABSENCE_CODES = Object.keys(TISS_ABSENCE_REASONS) as [AbsenceReasonCode, ...AbsenceReasonCode[]];
const tokenBody = z.strictObject({
  contactId: z.string().min(1).max(128).optional(),
  channel: z.enum(["sms", "email", "whatsapp", "app"]).optional(),
});
const confirmBody = z.strictObject({
  code: z.string().min(1).max(32),
  mode: z.enum(["sent", "app"]).optional(),
});
const absenceBody = z.strictObject({
  absence: z
    .strictObject({ reason: z.enum(ABSENCE_CODES), justification: z.string().min(1).max(500) })
    .optional(),
});

const defaultTiss = (guide: Guide) => ({
  statusSolicitacao: toTissStatus(guide) ?? null,
  validation: toTissValidation(guide) ?? null,
});

/**
 * The attendant's endpoints as one Fetch-standard handler. Every route needs `authenticate` to return the
 * provider; a guide of another provider answers 404, as if it did not exist.
 *
 * | method and path | body | answer |
 * |---|---|---|
 * | `GET /guides/:id` | | the attendance: guide, state, TISS fields, `canRequestToken`, `canConfirm` |
 * | `GET /guides/:id/contacts` | | the masked contacts to choose from |
 * | `POST /guides/:id/token` | `{ contactId?, channel? }` | 201 `{ attendance, issued }` (never the code) |
 * | `GET /guides/:id/delivery` | | the delivery status of the code |
 * | `POST /guides/:id/confirm` | `{ code, mode? }` | the confirmed attendance, or 422 `token-rejected` |
 * | `POST /guides/:id/confirm-without-token` | `{ absence?: { reason, justification } }` | the attendance |
 *
 * @example
 * ```ts
 * const attendant = createAttendantHandler({
 *   desk, tokens,
 *   people: async (id) => registry.get(id),
 *   authenticate: async (req) => sessions.providerOf(req.headers.get("cookie")), // null → 401
 *   basePath: "/api/attendant",
 * });
 * const res = await attendant(new Request("https://portal.example/api/attendant/guides/G-1"));
 * ```
 */
export function createAttendantHandler(options: AttendantHandlerOptions): FetchHandler {
  for (const name of ["desk", "tokens", "people", "authenticate"] as const) {
    if (!options?.[name]) throw new ConfigError(`createAttendantHandler needs ${name}`, { scope: "http" });
  }
  const { desk, tokens, people } = options;
  const limit = _limitOf(options as HandlerOptions<unknown>);
  const tiss = options.tissFields ?? defaultTiss;

  const view = (a: Attendance) => ({
    guide: a.guide,
    state: a.guide.state,
    version: a.version,
    tokenRequired: a.tokenRequired,
    canRequestToken: a.canRequestToken,
    canConfirm: a.canConfirm,
    tiss: tiss(a.guide),
  });
  const own = async (guideId: string, auth: AttendantIdentity) => {
    const attendance = await desk.get(guideId);
    if (attendance.guide.provider.code !== auth.providerCode) {
      throw new _HttpFailure("not-found", "guide not found");
    }
    return attendance;
  };
  const peopleOf = async (attendance: Attendance) => {
    const found = await people(attendance.beneficiaryId);
    if (!found) throw new _HttpFailure("not-found", "beneficiary not found");
    return found;
  };

  return _createHandler(options, [
    {
      method: "GET",
      path: "/guides/:id",
      run: async ({ params, auth }) => _json(view(await own(params.id!, auth))),
    },
    {
      method: "GET",
      path: "/guides/:id/contacts",
      run: async ({ params, auth }) => {
        const found = await peopleOf(await own(params.id!, auth));
        return _json({ contacts: tokens.listContacts(found.beneficiary, found.guardian) });
      },
    },
    {
      method: "POST",
      path: "/guides/:id/token",
      run: async ({ request, params, auth }) => {
        const attendance = await own(params.id!, auth);
        const input = await _readJson(request, tokenBody, limit);
        const found = await peopleOf(attendance);
        const result = await desk.requestToken({
          guideId: attendance.guide.id,
          beneficiary: found.beneficiary,
          ...(found.guardian ? { guardian: found.guardian } : {}),
          ...(input.contactId ? { contactId: input.contactId } : {}),
          ...(input.channel ? { channel: input.channel } : {}),
        });
        return _json({ attendance: view(result.attendance), issued: result.issued }, 201);
      },
    },
    {
      method: "GET",
      path: "/guides/:id/delivery",
      run: async ({ params, auth }) => {
        const attendance = await own(params.id!, auth);
        if (options.deliveryStatus) return _json(await options.deliveryStatus(attendance.guide.id));
        const events = await tokens.history(attendance.beneficiaryId, { limit: 100 });
        const latest = events.find(
          (e) =>
            e.guideId === attendance.guide.id &&
            (e.type === "token.issued" || e.type === "token.delivered" || e.type === "token.delivery_failed"),
        );
        const status =
          latest?.type === "token.delivered"
            ? "delivered"
            : latest?.type === "token.delivery_failed"
              ? "failed"
              : latest
                ? "pending"
                : "none";
        return _json({
          guideId: attendance.guide.id,
          status,
          ...(latest?.channel ? { channel: latest.channel } : {}),
          ...(latest?.maskedContact ? { deliveredTo: latest.maskedContact } : {}),
          ...(latest ? { atMs: latest.atMs } : {}),
        });
      },
    },
    {
      method: "POST",
      path: "/guides/:id/confirm",
      run: async ({ request, params, auth }) => {
        const attendance = await own(params.id!, auth);
        const input = await _readJson(request, confirmBody, limit);
        const result = await desk.confirm({
          guideId: attendance.guide.id,
          providerId: auth.providerCode,
          code: input.code,
          ...(input.mode ? { mode: input.mode } : {}),
        });
        if (!result.ok) {
          throw new _HttpFailure("token-rejected", `the code was refused: ${result.reason}`, {
            reason: result.reason,
            ...(result.attemptsLeft === undefined ? {} : { attemptsLeft: result.attemptsLeft }),
          });
        }
        return _json(view(result.attendance));
      },
    },
    {
      method: "POST",
      path: "/guides/:id/confirm-without-token",
      run: async ({ request, params, auth }) => {
        const attendance = await own(params.id!, auth);
        const input = await _readJson(request, absenceBody, limit);
        const confirmed = await desk.confirmWithoutToken({
          guideId: attendance.guide.id,
          providerId: auth.providerCode,
          ...(input.absence ? { absence: input.absence } : {}),
        });
        return _json(view(confirmed));
      },
    },
  ]);
}
