/**
 * The browser of the browser suites: Debian's Chromium at /usr/bin/chromium (or CHROMIUM_PATH), driven by
 * playwright-core, which never downloads a browser of its own. Without the binary a suite skips with a message
 * saying how to install it, except under CI=true, where `.ci/run` installs it and a missing binary fails.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { type BrowserContext, chromium } from "playwright-core";
import { describe, it } from "vitest";
import { IN_CI } from "./services.js";

/** The Chromium binary of the browser suites. */
export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";

/** The flags: headless, no sandbox (root in CI), and nothing that reaches the network on its own. */
export const CHROMIUM_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
] as const;

/** A browser on a fresh profile; `close()` ends it and removes the profile. */
export interface BrowserSession {
  readonly context: BrowserContext;
  close(): Promise<void>;
}

/** Launches Chromium on a fresh `--user-data-dir`. */
export async function launchBrowser(options: { locale?: string } = {}): Promise<BrowserSession> {
  const profile = mkdtempSync(join(tmpdir(), "ht-chromium-"));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: [...CHROMIUM_ARGS],
    locale: options.locale ?? "pt-BR",
    viewport: { width: 1100, height: 900 },
  });
  return {
    context,
    async close() {
      await context.close().catch(() => {});
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

/** `describe` when Chromium is installed; otherwise skip with a message, or fail under CI=true. */
export function describeWithBrowser(title: string, body: () => void): void {
  if (existsSync(CHROMIUM_PATH)) {
    describe(title, body);
    return;
  }
  const why = `Chromium is not installed at ${CHROMIUM_PATH}`;
  if (IN_CI) {
    describe(title, () => {
      it("Chromium must be installed in CI", () => {
        throw new Error(`${why}; .ci/run installs the Debian package \`chromium\``);
      });
    });
    return;
  }
  console.warn(
    `\n[health-token tests] SKIPPING "${title}": ${why}. Install it (\`apt-get install chromium\`) or set CHROMIUM_PATH.\n`,
  );
  describe.skip(title, body);
}

/** The built package, as the browser loads it: `/dist/otp.js` and the chunks it imports. */
const DIST = fileURLToPath(new URL("../../dist/", import.meta.url));

/**
 * A loopback static server: `files` maps a path to its body and content type, and `/dist/*.js` serves the
 * built ES modules (run `npm run build` first; `npm test` does).
 */
export async function serveFiles(
  files: Readonly<Record<string, { readonly body: string; readonly type: string }>>,
): Promise<{ url: string; close(): Promise<void> }> {
  const server: Server = createServer((req, res) => {
    const path = new URL(req.url ?? "/", "http://x").pathname;
    const built = /^\/dist\/([\w-]+\.js)$/.exec(path);
    const file =
      files[path] ??
      (built && existsSync(join(DIST, built[1]!))
        ? { body: readFileSync(join(DIST, built[1]!), "utf8"), type: "text/javascript" }
        : undefined);
    if (!file) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { "content-type": file.type, "cache-control": "no-store" }).end(file.body);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
