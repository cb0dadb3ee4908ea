// The same handlers mounted in Hono: the raw Request goes through untouched, so limits, 405 and problems
// behave exactly as standalone.
import { Hono } from "hono";
import { describe, expect, it } from "vitest";
import { httpFixture } from "./fixture.js";

describe("mounted in Hono", () => {
  it("routes /api/attendant/* and /api/me/* to the handlers", async () => {
    const fx = await httpFixture();
    const app = new Hono();
    app.all("/api/attendant/*", (c) => fx.attendant(c.req.raw));
    app.all("/api/me/*", (c) => fx.me(c.req.raw));
    const get = await app.request("/api/attendant/guides/G-1", { headers: { "x-test-provider": "PRV-1" } });
    expect(await get.json()).toMatchObject({ state: "authorized" });
    const put = await app.request("/api/attendant/guides/G-1", {
      method: "PUT",
      headers: { "x-test-provider": "PRV-1" },
    });
    expect(put.status).toBe(405);
    const plain = await app.request("/api/me/report-unrequested", {
      method: "POST",
      headers: { "x-test-beneficiary": "BEN-1", "content-type": "text/plain" },
      body: '{"guideId":"G-1"}',
    });
    expect(plain.status).toBe(415);
    const history = await app.request("/api/me/history", { headers: { "x-test-beneficiary": "BEN-1" } });
    expect(history.status).toBe(200);
  });
});
