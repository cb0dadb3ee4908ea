import { execFileSync, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { describe, expect, it } from "vitest";

const pkg = JSON.parse(readFileSync("package.json", "utf8")) as {
  repository: { url: string };
  scripts: Record<string, string>;
};
// "git+https://github.com/health-token/health-token.git" -> "https://github.com/health-token/health-token"
const repo = pkg.repository.url.replace(/^git\+/, "").replace(/\.git$/, "");
const [owner, name] = new URL(repo).pathname.slice(1).split("/");
const BLOB = `${repo}/blob/main/`;
const RAW = `https://raw.githubusercontent.com/${owner}/${name}/main/`;

/** GitHub's anchor of a heading: lower case, punctuation dropped, spaces to hyphens. */
const slug = (heading: string) =>
  heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s_-]/gu, "")
    .replace(/\s/g, "-");
const anchors = (markdown: string) =>
  new Set([...markdown.matchAll(/^#{1,6} (.+)$/gm)].map((m) => slug(m[1]!.replaceAll("`", ""))));

/** The `ts` blocks of a README section. */
function blocks(readme: string, heading: string): string[] {
  const section = readme.split(`\n## ${heading}\n`)[1]?.split("\n## ")[0] ?? "";
  return [...section.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]!);
}

describe("README", () => {
  it("its quickstart block runs as written", () => {
    const readme = readFileSync("README.md", "utf8");
    const section = readme.split("## Quickstart")[1] ?? "";
    const block = section.match(/```ts\n([\s\S]*?)```/)?.[1];
    expect(block).toBeTruthy();
    const file = "examples/.readme-quickstart.ts";
    writeFileSync(file, block!);
    const run = (pepper: string | undefined) =>
      execFileSync("npx", ["tsx", file], {
        encoding: "utf8",
        stdio: ["ignore", "pipe", "pipe"],
        env: { ...process.env, HEALTH_TOKEN_PEPPER: pepper },
      });
    try {
      // As the README says: `openssl rand -base64 32`.
      const out = run(randomBytes(32).toString("base64"));
      expect(out).toMatch(/code sent by sms to \(43\) 9\*{4}-0001/);
      expect(out).toMatch(/confirmed \{ codValidacao: '\d{6}' \}/);
      // Without the variable it refuses to start, naming the problem.
      expect(() => run("")).toThrow(/pepper 0 must be at least 32 bytes/);
    } finally {
      rmSync(file, { force: true });
    }
  });

  it("names every entry point of the exports map", () => {
    const readme = readFileSync("README.md", "utf8");
    const pkg = JSON.parse(readFileSync("package.json", "utf8")) as { exports: Record<string, unknown> };
    for (const subpath of Object.keys(pkg.exports)) {
      if (subpath === "./package.json") continue;
      expect(readme).toContain(`\`health-token${subpath.slice(1)}\``);
    }
  });

  it("links only to absolute URLs or anchors, so they work on the registry page, and every target exists", () => {
    const readme = readFileSync("README.md", "utf8");
    const links = [...readme.matchAll(/!?\[[^\]]*\]\(([^)\s]+)\)/g)].map((m) => m[1]!);
    expect(links.length).toBeGreaterThan(10);
    const relative = links.filter((l) => !/^(https:\/\/|#)/.test(l));
    expect(relative, "relative links break on npmjs.com: use the repository's absolute URL").toEqual([]);
    for (const link of links) {
      const [target, anchor] = link.split("#") as [string, string | undefined];
      if (target === "") {
        expect(anchors(readme), `README has no heading for #${anchor}`).toContain(anchor);
        continue;
      }
      const path = target.startsWith(BLOB)
        ? target.slice(BLOB.length)
        : target.startsWith(RAW)
          ? target.slice(RAW.length)
          : undefined;
      if (path === undefined) continue; // another site
      expect(existsSync(path), `${link}: ${path} is not in the repository`).toBe(true);
      if (target.startsWith(RAW))
        expect(path, `${link}: raw links are for images`).toMatch(/\.(png|svg|jpg)$/);
      if (anchor !== undefined)
        expect(anchors(readFileSync(path, "utf8")), `${path} has no #${anchor}`).toContain(anchor);
    }
  });

  it("its notifier blocks type-check against the package's entries", () => {
    const readme = readFileSync("README.md", "utf8");
    const code = blocks(readme, "Notifiers").filter((b) => b.includes("import "));
    expect(code).toHaveLength(2);
    expect(readme).toContain("notifier: {\n    app: ");
    const files = code.map((block, i) => {
      const file = `examples/.readme-notifier-${i}.ts`;
      writeFileSync(file, `${block}\nexport {};\n`);
      return file;
    });
    const config = "examples/.readme-tsconfig.json";
    writeFileSync(
      config,
      JSON.stringify({ extends: "../tsconfig.json", include: files.map((f) => f.slice("examples/".length)) }),
    );
    try {
      execFileSync("npx", ["tsc", "-p", config], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
    } catch (error) {
      throw new Error(
        `README notifier blocks do not type-check:\n${(error as { stdout?: string }).stdout ?? error}`,
      );
    } finally {
      for (const file of [...files, config]) rmSync(file, { force: true });
    }
  }, 120_000);

  it("`npm run server` starts the example backend, which answers with RFC 9457 problems", async () => {
    const readme = readFileSync("README.md", "utf8");
    expect(readme).toContain("`npm run server`");
    expect(pkg.scripts.server).toBeTruthy();
    const child = spawn("npm", ["run", "--silent", "server"], {
      env: { ...process.env, PORT: "0" },
      stdio: ["ignore", "pipe", "pipe"],
      detached: true,
    });
    try {
      const base = await new Promise<string>((resolve, reject) => {
        let out = "";
        child.stdout.on("data", (chunk: Buffer) => {
          out += chunk.toString();
          const m = out.match(/on (http:\/\/127\.0\.0\.1:\d+)/);
          if (m) resolve(m[1]!);
        });
        child.on("exit", (code) => reject(new Error(`npm run server exited (${code}): ${out}`)));
      });
      const response = await fetch(`${base}/no-such-route`);
      expect(response.status).toBe(404);
      expect(response.headers.get("content-type")).toBe("application/problem+json");
      expect(await response.json()).toMatchObject({ status: 404, detail: "route not found" });
    } finally {
      process.kill(-child.pid!, "SIGTERM");
    }
  });
});
