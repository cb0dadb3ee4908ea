import { readFileSync } from "node:fs";
import { pathToFileURL } from "node:url";
import { describe, expect, it } from "vitest";

// The plugins are plain .mjs files loaded by typedoc; imported by URL so the typecheck does not need their types.
const plugin = async <T>(name: string): Promise<T> =>
  (await import(pathToFileURL(`typedoc-plugins/${name}.mjs`).href)) as T;

describe("typedoc plugins", () => {
  it("module-names names every entry by the import path of the exports map", async () => {
    const { importPaths } = await plugin<{ importPaths: () => Record<string, string> }>("module-names");
    const pkg = JSON.parse(readFileSync("package.json", "utf8")) as { exports: Record<string, unknown> };
    const expected = Object.keys(pkg.exports)
      .filter((subpath) => subpath !== "./package.json")
      .map((subpath) => `health-token${subpath.slice(1)}`)
      .sort();
    expect(Object.values(importPaths()).sort()).toEqual(expected);
    expect(importPaths()["src/adapters/redis.ts"]).toBe("health-token/redis");
    expect(importPaths()["src/index.ts"]).toBe("health-token");
  });

  it("mermaid turns typedoc's mermaid code blocks into diagrams and leaves other pages alone", async () => {
    const { renderMermaid } = await plugin<{ renderMermaid: (html: string) => string }>("mermaid");
    const page =
      '<body><pre><code class="mermaid">stateDiagram-v2\n  a --&gt; b\n</code><button type="button">Copy</button></pre></body>';
    const out = renderMermaid(page);
    expect(out).toContain('<pre class="mermaid">stateDiagram-v2\n  a --&gt; b\n</pre>');
    expect(out).not.toContain('<code class="mermaid">');
    expect(out).toMatch(/<script type="module">[\s\S]*mermaid@11[\s\S]*<\/script><\/body>$/);
    const plain = '<body><pre><code class="ts">x</code><button type="button">Copy</button></pre></body>';
    expect(renderMermaid(plain)).toBe(plain);
  });
});
