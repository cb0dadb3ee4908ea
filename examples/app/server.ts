/**
 * The reference app: the attendant's page and the beneficiary's page, with the `health-token/http`
 * handlers behind them, on node:http and the in-memory defaults. Plain HTML and ES modules, no framework:
 * the pages are a few hundred lines and a framework would add more than it saves.
 *
 * Authentication here is a DEMO STAND-IN: the pages send `x-demo-provider` / `x-demo-beneficiary`
 * headers. Replace both `authenticate` hooks with your real session check.
 */
import { readFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { build } from "esbuild";
import { createAttendantHandler, createBeneficiaryHandler } from "../../src/http/index.js";
import {
  type AttendanceDesk,
  type Clock,
  createAttendanceDesk,
  createTokenService,
  MemoryGuideRepository,
  MemoryTokenStore,
  type Notifier,
  type PersonInput,
  systemClock,
  type TokenService,
} from "../../src/index.js";
import { OutboxNotifier } from "../../src/testing/index.js";
import { toNodeListener } from "../http/node-adapter.js";

/** The demo's provider and beneficiary (made up). */
export const DEMO_PROVIDER = "PRV-0001";
export const DEMO_BENEFICIARY = "BEN-0001";

/** The seeded guides, all authorized for the demo provider and beneficiary. */
export const DEMO_GUIDES = ["G-1001", "G-1002", "G-1003", "G-1004", "G-1005"] as const;

/** Options of {@link startApp}. */
export interface AppOptions {
  readonly port?: number;
  readonly clock?: Clock;
  /** Told about every message sent (the development notifier); the demo prints it. */
  readonly onMessage?: Notifier["send"];
}

/** A running app. */
export interface RunningApp {
  readonly url: string;
  readonly desk: AttendanceDesk;
  readonly tokens: TokenService;
  readonly outbox: OutboxNotifier;
  close(): Promise<void>;
}

const PUBLIC = new URL("./public/", import.meta.url);
const PAGES: Record<string, string> = {
  "/": "index.html",
  "/attendant.html": "attendant.html",
  "/beneficiary.html": "beneficiary.html",
  "/app.css": "app.css",
  "/i18n.js": "i18n.js",
  "/attendant.js": "attendant.js",
  "/beneficiary.js": "beneficiary.js",
};
const TYPES: Record<string, string> = {
  html: "text/html; charset=utf-8",
  css: "text/css; charset=utf-8",
  js: "text/javascript; charset=utf-8",
};

const beneficiary: PersonInput = {
  id: DEMO_BENEFICIARY,
  birthDate: "1980-05-17",
  contacts: [
    { id: "c1", channel: "sms", address: "(43) 99999-0001" },
    { id: "c2", channel: "email", address: "beneficiaria@example.com" },
  ],
};

/** Starts the app on 127.0.0.1 (port 0: any free port). */
export async function startApp(options: AppOptions = {}): Promise<RunningApp> {
  const clock = options.clock ?? systemClock;
  const outbox = new OutboxNotifier();
  const notifier: Notifier = {
    async send(message) {
      await options.onMessage?.(message);
      return outbox.send(message);
    },
  };
  const tokens = createTokenService({
    store: new MemoryTokenStore(),
    notifier,
    pepper: crypto.getRandomValues(new Uint8Array(32)),
    secretsKey: crypto.getRandomValues(new Uint8Array(32)),
    clock,
  });
  const desk = createAttendanceDesk({ tokens, guides: new MemoryGuideRepository(), clock });
  for (const [i, id] of DEMO_GUIDES.entries()) {
    await desk.open({
      guide: {
        id,
        type: "consulta",
        character: "eletiva",
        beneficiary: { cardNumber: "0064000012345678" },
        provider: { code: DEMO_PROVIDER },
        procedures: [{ tuss: "10101012", quantity: 1 }],
      },
      beneficiaryId: DEMO_BENEFICIARY,
      display: { providerName: "Clínica Exemplo", procedureSummary: "Consulta em consultório" },
    });
    await desk.authorize({
      guideId: id,
      senha: `CO2026${String(i + 1).padStart(6, "0")}`,
      validUntil: "2099-12-31",
    });
  }

  const attendant = toNodeListener(
    createAttendantHandler({
      desk,
      tokens,
      people: async (id) => (id === DEMO_BENEFICIARY ? { beneficiary } : undefined),
      authenticate: (req) =>
        req.headers.get("x-demo-provider") === DEMO_PROVIDER ? { providerCode: DEMO_PROVIDER } : null,
      basePath: "/api/attendant",
    }),
  );
  const me = toNodeListener(
    createBeneficiaryHandler({
      tokens,
      authenticate: (req) =>
        req.headers.get("x-demo-beneficiary") === DEMO_BENEFICIARY
          ? { beneficiaryId: DEMO_BENEFICIARY }
          : null,
      basePath: "/api/me",
    }),
  );

  // health-token/otp for the browser, bundled once from the sources (the same module the package builds).
  const otp = await build({
    entryPoints: [new URL("../../src/otp/index.ts", import.meta.url).pathname],
    bundle: true,
    format: "esm",
    platform: "browser",
    target: "es2022",
    write: false,
    logLevel: "silent",
  });
  const assets: Record<string, { body: string | Uint8Array; type: string }> = {
    "/vendor/otp.js": { body: otp.outputFiles[0]!.contents, type: TYPES.js! },
    "/vendor/uqr.js": {
      body: readFileSync(new URL("../../node_modules/uqr/dist/index.mjs", import.meta.url)),
      type: TYPES.js!,
    },
  };
  for (const [path, file] of Object.entries(PAGES)) {
    assets[path] = { body: readFileSync(new URL(file, PUBLIC)), type: TYPES[file.split(".").pop()!]! };
  }

  const server: Server = createServer((req, res) => {
    const path = new URL(req.url ?? "/", "http://app").pathname;
    if (path.startsWith("/api/attendant/")) return void attendant(req, res);
    if (path.startsWith("/api/me/")) return void me(req, res);
    if (path === "/favicon.ico") return void res.writeHead(204).end();
    const asset = assets[path];
    if (!asset || (req.method !== "GET" && req.method !== "HEAD")) {
      res.writeHead(asset ? 405 : 404, asset ? { allow: "GET, HEAD" } : {}).end();
      return;
    }
    res.writeHead(200, {
      "content-type": asset.type,
      "cache-control": "no-store",
      "x-content-type-options": "nosniff",
      "content-security-policy":
        "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; frame-ancestors 'none'",
    });
    res.end(req.method === "HEAD" ? undefined : asset.body);
  });
  await new Promise<void>((resolve) => server.listen(options.port ?? 0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    desk,
    tokens,
    outbox,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
