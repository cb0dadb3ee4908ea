import { readFileSync, writeFileSync } from "node:fs";
import { relative, resolve } from "node:path";
import ts from "typescript";
import { describe, expect, it } from "vitest";

/*
 * Every public call has an example. Walks the declarations exported by each public entry (the `entries` map of
 * tsup.config.ts, which scripts/check-exports.mjs keeps equal to package.json's exports) with the TypeScript
 * compiler and lists each one that needs an `@example` tag and has none. The rule:
 *
 * - a function (declared, or a `const` arrow or function expression): the user calls it;
 * - a class: the user constructs it (a store, a notifier, an error a custom adapter throws);
 * - an interface with at least one method: the user implements it (a port: `Notifier`, `TokenStore`, `Clock`)
 *   or calls it (a service); interfaces with properties only are data (inputs, results, options) and are
 *   documented field by field instead;
 * - each method of a service, the interface an exported `create…` factory returns (`createTokenService` ->
 *   `TokenService`, `createAttendanceDesk` -> `AttendanceDesk`): the user calls those methods one by one
 *   (`issue`, `verify`).
 *
 * Type aliases and constants that are not functions are data and are not listed.
 */

const config = readFileSync("tsup.config.ts", "utf8");
const block = config.match(/export const entries = \{([\s\S]*?)\} as const/);
if (!block) throw new Error("no `export const entries = { … } as const` in tsup.config.ts");
const entries = [...block[1]!.matchAll(/^\s*([\w-]+):\s*"([^"]+)"/gm)].map((m) => m[2]!);

function lacking(): string[] {
  const parsed = ts.getParsedCommandLineOfConfigFile(
    "tsconfig.json",
    {},
    {
      ...ts.sys,
      onUnRecoverableConfigFileDiagnostic: (d) => {
        throw new Error(ts.flattenDiagnosticMessageText(d.messageText, "\n"));
      },
    },
  );
  if (!parsed) throw new Error("tsconfig.json did not parse");
  const program = ts.createProgram(entries, parsed.options);
  const checker = program.getTypeChecker();
  const hasExample = (node: ts.Node) => ts.getJSDocTags(node).some((t) => t.tagName.text === "example");
  const where = (d: ts.Node) => relative(process.cwd(), resolve(d.getSourceFile().fileName));
  const missing = new Set<string>();
  const need = (label: string, nodes: readonly ts.Node[]) => {
    if (!nodes.some(hasExample)) missing.add(label);
  };

  for (const entry of entries) {
    const source = program.getSourceFile(entry);
    const module = source && checker.getSymbolAtLocation(source);
    if (!module) throw new Error(`${entry}: not a module`);
    for (const exported of checker.getExportsOfModule(module)) {
      const symbol = exported.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(exported) : exported;
      const declarations = symbol.declarations ?? [];
      const first = declarations[0];
      if (!first) continue;
      const label = `${where(first)}: ${symbol.name}`;
      if (declarations.some(ts.isFunctionDeclaration)) {
        // Overloads: an example on any signature (or the implementation) is enough.
        need(label, declarations);
        if (!/^create[A-Z]/.test(symbol.name)) continue;
        const returned = checker.getReturnTypeOfSignature(
          checker.getSignatureFromDeclaration(declarations.find(ts.isFunctionDeclaration)!)!,
        );
        for (const d of returned.getSymbol()?.declarations ?? []) {
          if (!ts.isInterfaceDeclaration(d) || d.getSourceFile().isDeclarationFile) continue;
          for (const member of d.members) {
            if (!ts.isMethodSignature(member)) continue;
            const name = member.name.getText();
            const overloads = d.members.filter((m) => ts.isMethodSignature(m) && m.name.getText() === name);
            need(`${where(d)}: ${d.name.text}.${name}`, overloads);
          }
        }
      } else if (declarations.some(ts.isClassDeclaration)) {
        need(label, declarations);
      } else if (
        declarations.some((d) => ts.isInterfaceDeclaration(d) && d.members.some(ts.isMethodSignature))
      ) {
        need(label, declarations);
      } else if (
        ts.isVariableDeclaration(first) &&
        first.initializer &&
        (ts.isArrowFunction(first.initializer) || ts.isFunctionExpression(first.initializer))
      ) {
        need(label, [first, first.parent.parent]);
      }
    }
  }
  return [...missing].sort();
}

describe("API examples", () => {
  const found = lacking();
  if (process.env.LIST_MISSING_EXAMPLES) writeFileSync(process.env.LIST_MISSING_EXAMPLES, found.join("\n"));

  it("every exported function, class and interface with methods that a user calls or implements has an @example", () => {
    expect(found, `add an @example to:\n${found.join("\n")}`).toEqual([]);
  });
});
