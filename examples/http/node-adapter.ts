/**
 * A Fetch-standard handler on node:http (and Express, whose `req`/`res` are node's): the request body is
 * handed over as a stream, so the handler's limit applies while it arrives and an oversize body is never
 * buffered; when the handler stops reading, the socket is closed.
 *
 *   createServer(toNodeListener(attendant)).listen(3000);
 *   expressApp.use("/api/attendant", toNodeListener(attendant, { useOriginalUrl: true }));
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { Readable } from "node:stream";

/** A handler on the Fetch standard, as `health-token/http` makes them. */
export type FetchHandler = (request: Request) => Promise<Response>;

/** Options of {@link toNodeListener}. */
export interface NodeListenerOptions {
  /** Express: route on `req.originalUrl` (the full path) instead of the path below the mount point. */
  readonly useOriginalUrl?: boolean;
}

/** Adapts a Fetch handler to a node:http request listener. */
export function toNodeListener(handler: FetchHandler, options: NodeListenerOptions = {}) {
  return async (req: IncomingMessage & { originalUrl?: string }, res: ServerResponse): Promise<void> => {
    const path = (options.useOriginalUrl ? req.originalUrl : undefined) ?? req.url ?? "/";
    const headers = new Headers();
    for (const [name, value] of Object.entries(req.headers)) {
      if (value === undefined) continue;
      for (const v of Array.isArray(value) ? value : [value]) headers.append(name, v);
    }
    const method = req.method ?? "GET";
    const hasBody = method !== "GET" && method !== "HEAD";
    const request = new Request(new URL(path, `http://${req.headers.host ?? "localhost"}`), {
      method,
      headers,
      ...(hasBody ? { body: Readable.toWeb(req) as ReadableStream<Uint8Array>, duplex: "half" } : {}),
    } as RequestInit);
    let response: Response;
    try {
      response = await handler(request);
    } catch {
      response = new Response(null, { status: 500 });
    }
    // A body the handler did not read to the end (an oversize one): answer, then close the connection.
    if (hasBody && !req.readableEnded) res.setHeader("connection", "close");
    const out: Record<string, string> = {};
    response.headers.forEach((value, name) => {
      out[name] = value;
    });
    res.writeHead(response.status, out);
    if (response.body) {
      for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) res.write(chunk);
    }
    res.end();
    if (hasBody && !req.readableEnded) req.destroy();
  };
}
