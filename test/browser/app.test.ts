// The reference app (examples/app) in Chromium: the attendant's flow from guide to confirmed with the
// keyboard alone, the beneficiary's in-browser TOTP code verified by the server, and a reported unrequested
// code revoked. With UPDATE_SCREENSHOTS=1 it rewrites docs/img/attendant.png and docs/img/beneficiary.png.
import type { Page } from "playwright-core";
import { afterAll, beforeAll, expect, it } from "vitest";
import { DEMO_BENEFICIARY, DEMO_PROVIDER, type RunningApp, startApp } from "../../examples/app/server.js";
import { type BrowserSession, describeWithBrowser, launchBrowser } from "../helpers/browser.js";

const SHOTS = process.env.UPDATE_SCREENSHOTS === "1";

describeWithBrowser("reference app in Chromium", () => {
  let app: RunningApp;
  let browser: BrowserSession;
  const errors: string[] = [];

  const open = async (path: string): Promise<Page> => {
    const page = await browser.context.newPage();
    page.on("pageerror", (error) => errors.push(String(error)));
    page.on("console", (m) => (m.type() === "error" ? errors.push(m.text()) : undefined));
    await page.goto(app.url + path);
    await page.waitForSelector("body[data-ready=true]");
    return page;
  };
  /** Presses Tab until `selector` has the focus (at most 30 times). */
  const tabTo = async (page: Page, selector: string) => {
    for (let i = 0; i < 30; i++) {
      if (await page.evaluate((s) => document.activeElement?.matches(s) ?? false, selector)) return;
      await page.keyboard.press("Tab");
    }
    throw new Error(`Tab never reached ${selector}`);
  };
  const attendantApi = (path: string, body?: unknown) =>
    fetch(`${app.url}/api/attendant/guides/${path}`, {
      method: body === undefined ? "GET" : "POST",
      headers: { "x-demo-provider": DEMO_PROVIDER, "content-type": "application/json" },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });

  beforeAll(async () => {
    app = await startApp();
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
    await app?.close();
  });

  it("attendant: guide → masked contact → send → delivery status → code → confirmed, keyboard only", async () => {
    const page = await open("/attendant.html");
    await tabTo(page, "#guide-id");
    await page.keyboard.type("G-1001");
    await page.keyboard.press("Enter");
    await page.waitForSelector("#state[data-state=authorized]");
    expect(await page.textContent("#contacts")).toContain("(43) 9****-0001");
    expect(await page.textContent("body")).not.toContain("99999-0001");
    await tabTo(page, "#contact-c1");
    await page.keyboard.press("Space");
    await tabTo(page, "#send");
    await page.keyboard.press("Enter");
    await page.waitForSelector("#delivery[data-status=delivered]");
    expect(await page.evaluate(() => document.activeElement?.id)).toBe("code");
    const field = await page.$eval("#code", (el) => ({
      inputmode: el.getAttribute("inputmode"),
      autocomplete: el.getAttribute("autocomplete"),
      label: (el as HTMLInputElement).labels?.[0]?.textContent,
    }));
    expect(field).toEqual({
      inputmode: "numeric",
      autocomplete: "one-time-code",
      label: "Código de validação",
    });
    const code = app.outbox.lastCodeFor(DEMO_BENEFICIARY)!;
    await page.keyboard.type(code);
    await page.keyboard.press("Enter");
    await page.waitForSelector("#state[data-state=confirmed]");
    expect(await page.textContent("#state")).toBe("confirmada");
    expect(await page.textContent("#tiss")).toContain("codValidacao");
    if (SHOTS) await page.screenshot({ path: "docs/img/attendant.png", fullPage: true });
    // English on request, titles of problems included.
    await tabTo(page, "#lang");
    await page.keyboard.press("Enter");
    expect(await page.textContent("#state")).toBe("confirmed");
    expect(await page.evaluate(() => document.documentElement.lang)).toBe("en");
    expect(errors).toEqual([]);
    await page.close();
  });

  it("attendant: confirms without a token with a table 74 reason", async () => {
    const page = await open("/attendant.html");
    await page.evaluate(() => localStorage.setItem("ht-lang", "pt-BR"));
    await page.reload();
    await page.waitForSelector("body[data-ready=true]");
    await page.fill("#guide-id", "G-1004");
    await page.press("#guide-id", "Enter");
    await page.waitForSelector("#state[data-state=authorized]");
    await page.click("#without summary");
    await page.selectOption("#reason", "07");
    await page.fill("#justification", "Beneficiária sem celular");
    await page.click("#without-form button");
    await page.waitForSelector("#state[data-state=confirmed]");
    expect(await page.textContent("#tiss")).toContain('"ausenciaCodValidacao": "07"');
    await page.close();
  });

  it("beneficiary: enrolls the app; the code generated IN THE BROWSER confirms a guide at the server", async () => {
    const page = await open("/beneficiary.html");
    await tabTo(page, "#enroll");
    await page.keyboard.press("Enter");
    await page.waitForSelector("#qr svg");
    await page.waitForFunction(() =>
      /^\d{6}$/.test(document.getElementById("current-code")?.textContent ?? ""),
    );
    expect(await page.getAttribute("#qr", "aria-label")).toContain("QR");
    expect(await page.textContent("#countdown")).toMatch(/Válido por mais \d+ s/);
    const code = (await page.textContent("#current-code"))!;
    const res = await attendantApi("G-1002/confirm", { code, mode: "app" });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ state: "confirmed" });
    if (SHOTS) {
      await attendantApi("G-1005/token", {});
      await page.click("#refresh");
      await page.waitForSelector("li[data-type='token.issued']");
      await page.screenshot({ path: "docs/img/beneficiary.png", fullPage: true });
    }
    expect(errors).toEqual([]);
    await page.close();
  });

  it("beneficiary: 'I did not request this code' revokes it", async () => {
    expect((await attendantApi("G-1003/token", {})).status).toBe(201);
    const code = app.outbox.lastCodeFor(DEMO_BENEFICIARY)!;
    const page = await open("/beneficiary.html");
    const button = "button[data-guide='G-1003']";
    await page.waitForSelector(button);
    await tabTo(page, button);
    await page.keyboard.press("Enter");
    await page.waitForSelector("li[data-type='token.reported_unrequested']");
    expect(await page.textContent("#notice")).toContain("G-1003");
    const res = await attendantApi("G-1003/confirm", { code });
    expect(res.status).toBe(422);
    expect(await res.json()).toMatchObject({ reason: "revoked" });
    await page.close();
  });
});
