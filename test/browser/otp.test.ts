// The RFC 4226 and RFC 6238 vectors, computed INSIDE Chromium by the built `health-token/otp` (dist/otp.js
// served as an ES module from a loopback server): the entry really runs in a browser, not only bundles.
import type { Page } from "playwright-core";
import { afterAll, beforeAll, expect, it } from "vitest";
import { type BrowserSession, describeWithBrowser, launchBrowser, serveFiles } from "../helpers/browser.js";
import { RFC4226_APPENDIX_D, RFC4226_SECRET } from "../vectors/rfc4226.js";
import { RFC6238_APPENDIX_B, RFC6238_SEEDS } from "../vectors/rfc6238.js";

const page = `<!doctype html><html lang="en"><meta charset="utf-8"><title>otp</title>
<script type="module">
  import * as otp from "/dist/otp.js";
  window.otp = otp;
  document.title = "ready";
</script></html>`;

describeWithBrowser("health-token/otp in Chromium (built dist, ES module)", () => {
  let browser: BrowserSession;
  let server: Awaited<ReturnType<typeof serveFiles>>;
  let tab: Page;
  const errors: string[] = [];

  beforeAll(async () => {
    server = await serveFiles({ "/": { body: page, type: "text/html; charset=utf-8" } });
    browser = await launchBrowser();
    tab = await browser.context.newPage();
    tab.on("pageerror", (error) => errors.push(String(error)));
    await tab.goto(server.url);
    await tab.waitForFunction(() => document.title === "ready");
  });
  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  it("loads without a node: import or a page error", async () => {
    expect(errors).toEqual([]);
    expect(await tab.evaluate(() => typeof (window as unknown as { otp: { totp: unknown } }).otp.totp)).toBe(
      "function",
    );
  });

  it("computes RFC 4226 Appendix D in the page", async () => {
    const got = await tab.evaluate(
      ({ secret, counters }) => {
        const { hotp } = (window as unknown as { otp: typeof import("../../src/otp/index.js") }).otp;
        const key = new TextEncoder().encode(secret);
        return counters.map((counter) => hotp(key, counter));
      },
      { secret: RFC4226_SECRET, counters: RFC4226_APPENDIX_D.map((row) => row.counter) },
    );
    expect(got).toEqual(RFC4226_APPENDIX_D.map((row) => row.hotp));
  });

  it("computes and verifies RFC 6238 Appendix B (SHA-1, SHA-256, SHA-512) in the page", async () => {
    const rows = RFC6238_APPENDIX_B.map((row) => ({
      seed: RFC6238_SEEDS[row.mode],
      timeMs: row.timeSeconds * 1000,
      mode: row.mode,
      expected: row.totp,
    }));
    const got = await tab.evaluate((vectors) => {
      const { totp, verifyTotp } = (window as unknown as { otp: typeof import("../../src/otp/index.js") })
        .otp;
      return vectors.map((row) => {
        const key = new TextEncoder().encode(row.seed);
        const options = { timeMs: row.timeMs, digits: 8, algorithm: row.mode };
        return { code: totp(key, options), valid: verifyTotp(key, row.expected, options).valid };
      });
    }, rows);
    expect(got).toEqual(rows.map((row) => ({ code: row.expected, valid: true })));
  });

  it("rejects a wrong code in the page", async () => {
    const valid = await tab.evaluate(() => {
      const { verifyTotp } = (window as unknown as { otp: typeof import("../../src/otp/index.js") }).otp;
      return verifyTotp(new TextEncoder().encode("12345678901234567890"), "94287083", {
        timeMs: 59_000,
        digits: 8,
      }).valid;
    });
    expect(valid).toBe(false);
  });
});
