import { _HttpFailure } from "./_problem.js";

/** One route: a method, a path pattern with `:name` segments, and what it does. */
export interface _Route<A> {
  readonly method: "GET" | "POST";
  readonly path: string;
  readonly run: (ctx: { request: Request; params: Record<string, string>; auth: A }) => Promise<Response>;
}

interface Compiled<A> extends _Route<A> {
  readonly re: RegExp;
  readonly names: string[];
}

/** Compiles routes; `match` returns the route and its params, or throws 404 / 405 (with `Allow`). */
export function _router<A>(routes: readonly _Route<A>[]) {
  const compiled: Compiled<A>[] = routes.map((route) => {
    const names: string[] = [];
    const source = route.path
      .split("/")
      .map((segment) => {
        if (!segment.startsWith(":")) return segment.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
        names.push(segment.slice(1));
        return "([^/]{1,128})";
      })
      .join("/");
    return { ...route, re: new RegExp(`^${source}$`), names };
  });
  return (method: string, path: string) => {
    const allowed: string[] = [];
    for (const route of compiled) {
      const m = route.re.exec(path);
      if (!m) continue;
      const accepts = route.method === method || (route.method === "GET" && method === "HEAD");
      if (!accepts) {
        allowed.push(route.method === "GET" ? "GET, HEAD" : route.method);
        continue;
      }
      const params: Record<string, string> = {};
      let bad = false;
      route.names.forEach((name, i) => {
        try {
          params[name] = decodeURIComponent(m[i + 1]!);
        } catch {
          bad = true;
        }
      });
      if (bad) throw new _HttpFailure("not-found", "no such resource");
      return { route, params };
    }
    if (allowed.length > 0) {
      const allow = [...new Set(allowed)].join(", ");
      throw new _HttpFailure("method-not-allowed", `${method} is not allowed here`, { allow }, { allow });
    }
    throw new _HttpFailure("not-found", "no such resource");
  };
}
