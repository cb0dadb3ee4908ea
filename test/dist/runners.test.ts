// Packs the package and runs three new projects against the tarball: one under Jest (CommonJS, no config), one
// under node:test (ESM) and one under vitest (ESM). Each issues and verifies a code with the fakes and runs the
// store conformance kit on the memory store. Nothing is fetched: the tarball is unpacked into the project's
// node_modules, and the runners and the package's dependencies are links to this repository's node_modules.
// `npm test` builds first.
import { execFile, execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { testPepper } from "../helpers/keys.js";

const run = promisify(execFile);
const repo = new URL("../..", import.meta.url).pathname;
const modules = join(repo, "node_modules");
const pkg = JSON.parse(readFileSync(join(repo, "package.json"), "utf8")) as {
  dependencies: Record<string, string>;
};

// The same scenario in each runner's dialect: `t` is the runner's test function, `ok` an assertion.
const scenario = (t: string, ok: (condition: string) => string) => `
const beneficiary = { id: "B-1", birthDate: "1990-05-01", contacts: [{ id: "c1", channel: "sms", address: "+5543999990001" }] };
${t}("issues and verifies a code with the fakes", async () => {
  const clock = new FakeClock();
  const outbox = new OutboxNotifier();
  const tokens = createTokenService({ store: new MemoryTokenStore(), notifier: outbox, pepper: ${JSON.stringify(testPepper("runners"))}, clock });
  await tokens.issue({ guide: { id: "G-1", providerId: "P-1" }, beneficiary });
  clock.advance(60_000);
  const code = outbox.lastCodeFor("B-1");
  const result = await tokens.verify({ guideId: "G-1", providerId: "P-1", code });
  ${ok("result.ok === true")};
  const again = await tokens.verify({ guideId: "G-1", providerId: "P-1", code });
  ${ok('again.ok === false && again.reason === "consumed"')};
  let caught;
  try { await tokens.issue({ guide: { id: "", providerId: "P-1" }, beneficiary }); } catch (e) { caught = e; }
  ${ok('caught instanceof HealthTokenError && caught.code === "INVALID_ARGUMENT"')};
});
`;

const projects = {
  jest: {
    file: "store.test.js",
    text: `const { createTokenService, HealthTokenError } = require("health-token");
const { FakeClock, MemoryTokenStore, OutboxNotifier, runStoreConformance } = require("health-token/testing");
${scenario("test", (c: string) => `expect(${c}).toBe(true)`)}
runStoreConformance({ name: "memory under Jest", createStore: () => new MemoryTokenStore(),
  capabilities: { sharedAcrossInstances: false }, test: { describe, it } });
`,
    command: (dir: string) => [
      join(modules, "jest/bin/jest.js"),
      "--ci",
      "--no-watchman",
      "--rootDir",
      dir,
      "--cacheDirectory",
      join(dir, ".jest-cache"),
    ],
  },
  "node:test": {
    file: "store.test.mjs",
    text: `import * as nodeTest from "node:test";
import assert from "node:assert/strict";
import { createTokenService, HealthTokenError } from "health-token";
import { FakeClock, MemoryTokenStore, OutboxNotifier, nodeTestRunner, runStoreConformance } from "health-token/testing";
const test = nodeTest.test;
${scenario("test", (c: string) => `assert.ok(${c})`)}
runStoreConformance({ name: "memory under node:test", createStore: () => new MemoryTokenStore(),
  capabilities: { sharedAcrossInstances: false }, test: nodeTestRunner(nodeTest) });
`,
    command: (dir: string) => ["--test", join(dir, "store.test.mjs")],
  },
  vitest: {
    file: "store.test.mjs",
    text: `import { describe, expect, it, test } from "vitest";
import { createTokenService, HealthTokenError } from "health-token";
import { FakeClock, MemoryTokenStore, OutboxNotifier, runStoreConformance } from "health-token/testing";
${scenario("test", (c: string) => `expect(${c}).toBe(true)`)}
runStoreConformance({ name: "memory under vitest", createStore: () => new MemoryTokenStore(),
  capabilities: { sharedAcrossInstances: false }, test: { describe, it, expect } });
`,
    command: (dir: string) => [join(modules, "vitest/vitest.mjs"), "run", "--root", dir],
  },
} as const;

type Runner = keyof typeof projects;
let root = "";
const outputs = new Map<Runner, Promise<{ code: number; out: string }>>();

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), "health-token-runners-"));
  const out = execFileSync("npm", ["pack", "--ignore-scripts", "--json", "--pack-destination", root], {
    cwd: repo,
    encoding: "utf8",
    stdio: ["ignore", "pipe", "ignore"],
  });
  const tarball = join(root, (JSON.parse(out) as { filename: string }[])[0]!.filename);
  for (const [name, project] of Object.entries(projects) as [Runner, (typeof projects)[Runner]][]) {
    const dir = join(root, name.replace(":", "-"));
    const installed = join(dir, "node_modules", "health-token");
    mkdirSync(installed, { recursive: true });
    execFileSync("tar", ["-xzf", tarball, "-C", installed, "--strip-components=1"]);
    const links = [...Object.keys(pkg.dependencies), ...(name === "node:test" ? [] : [name])];
    for (const dep of links) {
      const [scope] = dep.split("/");
      if (dep.startsWith("@")) mkdirSync(join(dir, "node_modules", scope!), { recursive: true });
      symlinkSync(join(modules, dep), join(dir, "node_modules", dep));
    }
    writeFileSync(
      join(dir, "package.json"),
      JSON.stringify({ name: `runner-${name.replace(":", "-")}`, private: true }),
    );
    writeFileSync(join(dir, project.file), project.text);
    // All three run at once; each case below awaits its own.
    outputs.set(
      name,
      run(process.execPath, project.command(dir), {
        cwd: dir,
        env: { ...process.env, CI: "true", NO_COLOR: "1", FORCE_COLOR: "0" },
      }).then(
        (r) => ({ code: 0, out: r.stdout + r.stderr }),
        (e: { code?: number; stdout?: string; stderr?: string }) => ({
          code: e.code ?? 1,
          out: `${e.stdout ?? ""}${e.stderr ?? ""}`,
        }),
      ),
    );
  }
}, 60_000);

afterAll(() => {
  if (root) rmSync(root, { recursive: true, force: true });
});

describe.each(Object.keys(projects) as Runner[])("the packed tarball under %s", (runner) => {
  it("runs the fakes and the whole store conformance kit, and passes", async () => {
    const { code, out } = await outputs.get(runner)!;
    expect(code, out).toBe(0);
    // The kit really ran: the runner counts the scenario and the kit's 30 cases as passed.
    const passed = {
      jest: /Tests:\s+(?:\d+ skipped, )?(\d+) passed/, // the interrupted-step cases: skipped (no hook)
      "node:test": /# pass (\d+)/,
      vitest: /Tests\s+(\d+) passed/,
    }[runner];
    expect(Number(passed.exec(out)?.[1] ?? 0), out).toBeGreaterThanOrEqual(31);
    expect(out).not.toMatch(/ERR_REQUIRE_ESM|Cannot use import statement|SyntaxError/);
  }, 120_000);
});
