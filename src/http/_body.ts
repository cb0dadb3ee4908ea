import type { z } from "zod";
import { _HttpFailure } from "./_problem.js";

/** Default body limit: 16 KiB (the largest body the handlers accept is a few hundred bytes). */
export const _DEFAULT_MAX_BODY_BYTES = 16 * 1024;

const JSON_TYPE = /^application\/(?:[\w.+-]+\+)?json\s*(?:;\s*charset\s*=\s*"?utf-8"?\s*)?$/i;

/**
 * Reads a JSON body: the content type must be JSON (415), the body at most `limit` bytes, counted while it
 * streams, so an oversize body is refused after `limit` bytes instead of being buffered (413); it must be
 * UTF-8 JSON (400) and match `schema`, unknown fields included (400).
 */
export async function _readJson<T>(request: Request, schema: z.ZodType<T>, limit: number): Promise<T> {
  const type = request.headers.get("content-type") ?? "";
  if (!JSON_TYPE.test(type.trim())) {
    await request.body?.cancel().catch(() => {});
    throw new _HttpFailure(
      "unsupported-media-type",
      `expected Content-Type application/json, got ${type ? JSON.stringify(type.slice(0, 100)) : "none"}`,
      {},
      { "accept-post": "application/json" },
    );
  }
  const tooLarge = () =>
    new _HttpFailure("payload-too-large", `the body is over ${limit} bytes`, { limitBytes: limit });
  const declared = request.headers.get("content-length");
  if (declared !== null && /^\d+$/.test(declared) && Number(declared) > limit) {
    await request.body?.cancel().catch(() => {});
    throw tooLarge();
  }
  const bytes = new Uint8Array(limit);
  let length = 0;
  if (request.body) {
    const reader = request.body.getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      if (length + value.byteLength > limit) {
        await reader.cancel().catch(() => {});
        throw tooLarge();
      }
      bytes.set(value, length);
      length += value.byteLength;
    }
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes.subarray(0, length)));
  } catch {
    throw new _HttpFailure("malformed-json", "the body is not UTF-8 JSON");
  }
  const result = schema.safeParse(parsed);
  if (!result.success) {
    throw new _HttpFailure("invalid-request", "the body does not match the endpoint's schema", {
      issues: result.error.issues.map((issue) => ({
        path: issue.path.map(String).join("."),
        message: issue.message,
      })),
    });
  }
  return result.data;
}
