// Fails when the tsup entries and the package.json exports map drift apart, or a file named in exports is
// missing from dist after the build. Run by `npm run build`.
import { existsSync, readFileSync } from "node:fs";

const pkg = JSON.parse(readFileSync("package.json", "utf8"));
const config = readFileSync("tsup.config.ts", "utf8");
const block = config.match(/export const entries = \{([\s\S]*?)\} as const/);
if (!block) throw new Error("check-exports: no `export const entries = { … } as const` in tsup.config.ts");
const entries = Object.fromEntries(
  [...block[1].matchAll(/^\s*([\w-]+):\s*"([^"]+)"/gm)].map((m) => [m[1], m[2]]),
);

const problems = [];
const subpathOf = (name) => (name === "index" ? "." : `./${name}`);
const exported = Object.keys(pkg.exports).filter((k) => k !== "./package.json");

for (const [name, source] of Object.entries(entries)) {
  if (!existsSync(source)) problems.push(`tsup entry ${name}: ${source} does not exist`);
  if (!pkg.exports[subpathOf(name)]) problems.push(`tsup entry ${name} has no exports["${subpathOf(name)}"]`);
  if (name !== "index" && !pkg.typesVersions?.["*"]?.[name])
    problems.push(`tsup entry ${name} has no typesVersions`);
}
for (const subpath of exported) {
  const name = subpath === "." ? "index" : subpath.slice(2);
  if (!entries[name]) problems.push(`exports["${subpath}"] has no tsup entry "${name}"`);
  const walk = (node) => {
    if (typeof node === "string") {
      if (!existsSync(node)) problems.push(`exports["${subpath}"] names ${node}, which was not built`);
    } else for (const value of Object.values(node)) walk(value);
  };
  walk(pkg.exports[subpath]);
}
if (problems.length > 0) {
  console.error(`check-exports: ${problems.length} problem(s)\n- ${problems.join("\n- ")}`);
  process.exit(1);
}
console.log(`check-exports: ${Object.keys(entries).length} entries match the exports map and were built`);
