// Names each API module by the import path a user writes (`health-token`, `health-token/redis`, …) instead of
// its file's path under src/. The names come from the same two places the build uses: the `entries` map of
// tsup.config.ts (entry name -> source file) and the package name; scripts/check-exports.mjs keeps that map
// and the exports map of package.json in step. A module whose file is not an entry fails the docs build.
import { readFileSync } from "node:fs";
import { Converter, ReflectionKind } from "typedoc";

/** `{ "src/adapters/redis.ts": "health-token/redis", … }` from tsup.config.ts and package.json. */
export function importPaths() {
  const pkg = JSON.parse(readFileSync("package.json", "utf8"));
  const config = readFileSync("tsup.config.ts", "utf8");
  const block = config.match(/export const entries = \{([\s\S]*?)\} as const/);
  if (!block) throw new Error("module-names: no `export const entries = { … } as const` in tsup.config.ts");
  return Object.fromEntries(
    [...block[1].matchAll(/^\s*([\w-]+):\s*"([^"]+)"/gm)].map(([, name, source]) => [
      source,
      name === "index" ? pkg.name : `${pkg.name}/${name}`,
    ]),
  );
}

/** @param {import("typedoc").Application} app */
export function load(app) {
  app.converter.on(Converter.EVENT_RESOLVE_BEGIN, (context) => {
    const names = importPaths();
    for (const mod of context.project.getReflectionsByKind(ReflectionKind.Module)) {
      const file = context.project.getSymbolIdFromReflection(mod)?.packagePath;
      const name = file === undefined ? undefined : names[file];
      if (name === undefined) {
        app.logger.error(`module-names: module ${mod.name} (${file ?? "no file"}) is not a tsup entry`);
        continue;
      }
      mod.name = name;
    }
  });
}
