// Hostile input at the HTTP handlers: oversize bodies (declared and streamed), wrong content types, wrong
// methods, malformed JSON, unknown fields, and arbitrary bodies (fast-check). Every answer is a problem
// document with the right status; nothing is buffered past the limit; nothing changes the guide.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { PROBLEM_TYPE_BASE } from "../../src/http/index.js";
import { httpFixture } from "./fixture.js";

const problem = async (res: Response) => {
  expect(res.headers.get("content-type")).toMatch(/^application\/problem\+json/);
  return (await res.json()) as { type: string; status: number; [k: string]: unknown };
};

/** A body of `total` bytes in 64 KiB chunks, counting what the reader pulled. */
function countingBody(total: number) {
  const chunk = new Uint8Array(64 * 1024).fill(0x20);
  let pulled = 0;
  const stream = new ReadableStream<Uint8Array>(
    {
      pull(controller) {
        if (pulled >= total) return controller.close();
        pulled += chunk.byteLength;
        controller.enqueue(chunk);
      },
    },
    { highWaterMark: 0 },
  );
  return { stream, pulled: () => pulled };
}

describe("hostile input", () => {
  it("413 for a declared oversize body, before reading it", async () => {
    const fx = await httpFixture();
    const body = countingBody(300 * 1024 * 1024);
    const res = await fx.attendant(
      new Request(`${fx.base}/api/attendant/guides/G-1/confirm`, {
        method: "POST",
        headers: {
          "x-test-provider": "PRV-1",
          "content-type": "application/json",
          "content-length": String(300 * 1024 * 1024),
        },
        body: body.stream,
        duplex: "half",
      } as RequestInit),
    );
    expect(res.status).toBe(413);
    expect(await problem(res)).toMatchObject({
      type: `${PROBLEM_TYPE_BASE}payload-too-large`,
      limitBytes: 16384,
    });
    expect(body.pulled()).toBeLessThanOrEqual(2 * 64 * 1024);
  });

  it("413 for an undeclared (chunked) 300 MB body, stopping after the limit", async () => {
    const fx = await httpFixture();
    const body = countingBody(300 * 1024 * 1024);
    const res = await fx.attendant(
      new Request(`${fx.base}/api/attendant/guides/G-1/confirm`, {
        method: "POST",
        headers: { "x-test-provider": "PRV-1", "content-type": "application/json" },
        body: body.stream,
        duplex: "half",
      } as RequestInit),
    );
    expect(res.status).toBe(413);
    // The limit is 16 KiB: the reader stops at the first chunk that passes it (plus what the stream queued).
    expect(body.pulled()).toBeLessThanOrEqual(3 * 64 * 1024);
    expect((await (await fx.asAttendant("/guides/G-1")).json()) as { state: string }).toMatchObject({
      state: "authorized",
    });
  });

  it("a body of exactly the limit is read; one byte more is refused", async () => {
    const fx = await httpFixture({ maxBodyBytes: 64 });
    const json = (n: number) => `{"code":"${"1".repeat(n - 11)}"}`;
    expect(json(64)).toHaveLength(64);
    const send = (text: string) =>
      fx.asAttendant("/guides/G-1/confirm", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: text,
      });
    expect((await send(json(64))).status).toBe(400); // read; then refused by the schema (code too long)
    expect((await send(json(65))).status).toBe(413);
  });

  it("415 for JSON sent as text/plain, form data or no content type", async () => {
    const fx = await httpFixture();
    for (const type of [
      "text/plain",
      "application/x-www-form-urlencoded",
      "multipart/form-data; boundary=x",
      "",
      "application/json; charset=latin1",
      "application/jsonx",
    ]) {
      const res = await fx.asAttendant("/guides/G-1/confirm", {
        method: "POST",
        headers: type ? { "content-type": type } : {},
        body: '{"code":"123456"}',
      });
      expect(res.status, type).toBe(415);
      expect(res.headers.get("accept-post")).toBe("application/json");
      expect((await problem(res)).type).toBe(`${PROBLEM_TYPE_BASE}unsupported-media-type`);
    }
    const ok = await fx.asAttendant("/guides/G-1/confirm", {
      method: "POST",
      headers: { "content-type": "application/json; charset=UTF-8" },
      body: '{"code":"12345"}',
    });
    expect(ok.status).toBe(422); // accepted as JSON, then a malformed code
  });

  it("405 with Allow for a wrong method; 404 for an unknown path", async () => {
    const fx = await httpFixture();
    const put = await fx.asAttendant("/guides/G-1/confirm", { method: "PUT" });
    expect(put.status).toBe(405);
    expect(put.headers.get("allow")).toBe("POST");
    expect(await problem(put)).toMatchObject({
      type: `${PROBLEM_TYPE_BASE}method-not-allowed`,
      allow: "POST",
    });
    const del = await fx.asAttendant("/guides/G-1", { method: "DELETE" });
    expect(del.headers.get("allow")).toBe("GET, HEAD");
    const postHistory = await fx.asBeneficiary("/history", { method: "POST" });
    expect(postHistory.status).toBe(405);
    expect((await fx.asAttendant("/nothing")).status).toBe(404);
    const outside = await fx.attendant(
      new Request(`${fx.base}/other/guides/G-1`, { headers: { "x-test-provider": "PRV-1" } }),
    );
    expect(outside.status).toBe(404);
    const head = await fx.asAttendant("/guides/G-1", { method: "HEAD" });
    expect(head.status).toBe(200);
    expect(await head.text()).toBe("");
  });

  it("400 for malformed JSON, invalid UTF-8 and unknown fields", async () => {
    const fx = await httpFixture();
    const send = (body: BodyInit) =>
      fx.asAttendant("/guides/G-1/token", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body,
      });
    for (const text of ["", "{", '{"contactId":', "nul", "{'a':1}", '{"a":1}}']) {
      const res = await send(text);
      expect(res.status, text).toBe(400);
      expect((await problem(res)).type).toBe(`${PROBLEM_TYPE_BASE}malformed-json`);
    }
    expect((await send(new Uint8Array([0x7b, 0xff, 0x7d]))).status).toBe(400);
    const unknown = await send('{"contactId":"sms-1","admin":true}');
    expect(unknown.status).toBe(400);
    expect(await problem(unknown)).toMatchObject({ type: `${PROBLEM_TYPE_BASE}invalid-request` });
    for (const text of ["[]", "1", '"x"', "null", '{"contactId":5}', '{"__proto__":{"x":1}}']) {
      expect((await send(text)).status, text).toBe(400);
    }
    // Nothing was sent by any of them.
    expect(fx.outbox.messages).toHaveLength(0);
  });

  it("arbitrary bodies never crash a handler or change the guide (fast-check)", async () => {
    const fx = await httpFixture();
    const paths = ["/guides/G-1/token", "/guides/G-1/confirm", "/guides/G-1/confirm-without-token"];
    const body = fc.oneof(
      fc.string(),
      fc.json(),
      fc.uint8Array({ maxLength: 300 }),
      fc.dictionary(fc.string({ maxLength: 12 }), fc.jsonValue()).map((o) => JSON.stringify(o)),
    );
    const type = fc.constantFrom("application/json", "text/plain", "application/problem+json", "");
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...paths), body, type, async (path, payload, contentType) => {
        const res = await fx.asAttendant(path, {
          method: "POST",
          headers: contentType ? { "content-type": contentType } : {},
          body: payload,
        });
        const doc = (await res.json()) as { status?: number; type?: string };
        if (res.status >= 400) {
          expect(res.status).toBe(doc.status);
          expect(doc.type?.startsWith(PROBLEM_TYPE_BASE)).toBe(true);
        }
        expect(res.status).not.toBe(500);
        expect([200, 201, 400, 409, 413, 415, 422, 429]).toContain(res.status);
      }),
      { numRuns: 300 },
    );
    const { state } = (await (await fx.asAttendant("/guides/G-1")).json()) as { state: string };
    expect(["authorized", "confirmed"]).toContain(state);
  });
});
