// Renders the ```mermaid blocks of the guides (docs/guide-states.md, docs/concepts.md) as diagrams in the
// typedoc site. GitHub renders them natively; typedoc prints them as code, so this turns each block into a
// `<pre class="mermaid">` and, on the pages that have one, loads mermaid 11 from jsDelivr when the page is
// viewed. Nothing is downloaded at build time and the package gains no dependency. Without the network the
// page still shows the diagram's source text.
import { Renderer } from "typedoc";

const BLOCK = /<pre><code class="mermaid">([\s\S]*?)<\/code><button type="button">Copy<\/button><\/pre>/g;

const SCRIPT = `<script type="module">
import mermaid from "https://cdn.jsdelivr.net/npm/mermaid@11/dist/mermaid.esm.min.mjs";
const theme = document.documentElement.dataset.theme;
const dark = theme === "dark" || (theme !== "light" && matchMedia("(prefers-color-scheme: dark)").matches);
mermaid.initialize({ startOnLoad: false, theme: dark ? "dark" : "default", securityLevel: "strict" });
await mermaid.run({ querySelector: "pre.mermaid" });
</script>`;

/** The page's HTML with its mermaid blocks made diagrams; unchanged when it has none. */
export function renderMermaid(html) {
  let found = false;
  const out = html.replace(BLOCK, (_, source) => {
    found = true;
    return `<pre class="mermaid">${source}</pre>`;
  });
  return found ? out.replace("</body>", `${SCRIPT}</body>`) : html;
}

/** @param {import("typedoc").Application} app */
export function load(app) {
  app.renderer.on(Renderer.EVENT_END_PAGE, (/** @type {import("typedoc").PageEvent} */ page) => {
    if (page.contents !== undefined) page.contents = renderMermaid(page.contents);
  });
}
