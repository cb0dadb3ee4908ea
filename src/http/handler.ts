/**
 * The plumbing every handler shares: routing, authentication, the body limit, errors as problems.
 *
 * @module
 */
import { _DEFAULT_MAX_BODY_BYTES } from "./_body.js";
import { _HttpFailure, _problemResponse, _toFailure } from "./_problem.js";
import { type _Route, _router } from "./_router.js";
import { type HttpLocale, negotiateLocale } from "./problems.js";

/** What every handler factory takes besides its own dependencies. */
export interface HandlerOptions<A> {
  /**
   * Who is calling: the identity, or `null`/`undefined` for 401. Runs before any body is read. There is no
   * built-in authentication and no endpoint without this hook: put your session, JWT or mTLS check here.
   */
  readonly authenticate: (request: Request) => A | null | undefined | Promise<A | null | undefined>;
  /** A prefix stripped from the path before routing, such as `/api/attendant` (default: none). */
  readonly basePath?: string | undefined;
  /** The largest request body accepted, in bytes (default 16 KiB); larger ones get 413 unread. */
  readonly maxBodyBytes?: number | undefined;
  /** Force the problem titles' language instead of negotiating `Accept-Language` (default pt-BR). */
  readonly locale?: HttpLocale | undefined;
  /** Told about every 5xx answer's error (for your logs); must not throw. */
  readonly onError?: ((error: unknown, request: Request) => void) | undefined;
}

/** A Fetch-standard handler. */
export type FetchHandler = (request: Request) => Promise<Response>;

/** Builds a handler from routes: routing (404/405), authentication (401), then the route, errors as problems. */
export function _createHandler<A>(options: HandlerOptions<A>, routes: readonly _Route<A>[]): FetchHandler {
  const match = _router(routes);
  const base = (options.basePath ?? "").replace(/\/+$/, "");
  return async (request) => {
    const locale = options.locale ?? negotiateLocale(request.headers.get("accept-language"));
    try {
      const url = new URL(request.url);
      let path = url.pathname;
      if (base) {
        if (path !== base && !path.startsWith(`${base}/`))
          throw new _HttpFailure("not-found", "no such resource");
        path = path.slice(base.length) || "/";
      }
      const { route, params } = match(request.method.toUpperCase(), path);
      const auth = await options.authenticate(request);
      if (auth === null || auth === undefined) {
        throw new _HttpFailure("unauthenticated", "authentication required");
      }
      const response = await route.run({ request, params, auth });
      await request.body?.cancel().catch(() => {}); // a body the route did not need is never read
      if (request.method.toUpperCase() === "HEAD") return new Response(null, response);
      return response;
    } catch (error) {
      await request.body?.cancel().catch(() => {});
      const failure = _toFailure(error);
      if (
        failure.slug === "internal" ||
        failure.slug === "store-unavailable" ||
        failure.slug === "delivery-failed"
      ) {
        try {
          options.onError?.(error, request);
        } catch {}
      }
      return _problemResponse(failure, locale);
    }
  };
}

/** The body limit of a handler. */
export const _limitOf = (options: HandlerOptions<unknown>) => options.maxBodyBytes ?? _DEFAULT_MAX_BODY_BYTES;
