// The handlers behind node:http through examples/http/node-adapter.ts: a 300 MB body sent in chunks is
// refused with 413 after the limit, without buffering it (the server's RSS stays flat; the issue measured
// 254 MB → 1.26 GB on the old reference server).
import { createServer, request } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { toNodeListener } from "../../examples/http/node-adapter.js";
import { httpFixture } from "./fixture.js";

describe("node:http adapter", () => {
  let url = "";
  let close: () => Promise<void> = async () => {};
  beforeAll(async () => {
    const fx = await httpFixture();
    const server = createServer(toNodeListener(fx.attendant));
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    close = () => new Promise((resolve) => server.close(() => resolve()));
  });
  afterAll(() => close());

  it("serves a GET with the handler's JSON", async () => {
    const res = await fetch(`${url}/api/attendant/guides/G-1`, { headers: { "x-test-provider": "PRV-1" } });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ state: "authorized" });
  });

  it("refuses a streamed 300 MB body with 413 and stops reading it", async () => {
    const total = 300 * 1024 * 1024;
    const chunk = Buffer.alloc(256 * 1024, 0x20);
    const rssBefore = process.memoryUsage().rss;
    const { status, sent } = await new Promise<{ status: number; sent: number }>((resolve, reject) => {
      let sent = 0;
      const req = request(`${url}/api/attendant/guides/G-1/confirm`, {
        method: "POST",
        headers: { "x-test-provider": "PRV-1", "content-type": "application/json" }, // chunked: no length
      });
      req.on("response", (res) => {
        res.resume();
        res.on("end", () => {
          resolve({ status: res.statusCode ?? 0, sent });
          req.destroy();
        });
      });
      req.on("error", (error) => (sent > 0 ? undefined : reject(error)));
      const pump = () => {
        while (sent < total) {
          sent += chunk.length;
          if (!req.write(chunk)) return void req.once("drain", pump);
        }
        req.end();
      };
      pump();
    });
    const grewMb = (process.memoryUsage().rss - rssBefore) / 2 ** 20;
    console.log(
      `node adapter: 413 after the client wrote ${(sent / 2 ** 20).toFixed(1)} MB; RSS +${grewMb.toFixed(1)} MB`,
    );
    expect(status).toBe(413);
    expect(sent).toBeLessThan(total / 4); // the connection was closed long before the 300 MB
    expect(grewMb).toBeLessThan(100);
  });
});
