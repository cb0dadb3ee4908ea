/**
 * Walks the public API of every entry with the TypeScript compiler and lists each optional property a caller
 * can pass in (reached from the parameters of exported functions, constructors and methods) whose declared
 * type does not include `undefined`. Under `exactOptionalPropertyTypes` such a property refuses an explicit
 * `undefined` (TS2379/TS2375), so `{ contactId: body.contactId }` would not compile.
 */
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import ts from "typescript";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..");

/** One optional property whose declared type lacks `undefined`. */
export interface OptionalProblem {
  /** `src/file.ts:line` */
  readonly at: string;
  /** `Owner.property` */
  readonly property: string;
  /** The declared type's span in its file, when the property has one (used to fix it). */
  readonly typeSpan?: { readonly file: string; readonly start: number; readonly end: number } | undefined;
}

function includesUndefined(type: ts.Type): boolean {
  if (type.flags & (ts.TypeFlags.Undefined | ts.TypeFlags.Any | ts.TypeFlags.Unknown | ts.TypeFlags.Void)) {
    return true;
  }
  if (type.isUnion()) return type.types.some(includesUndefined);
  return false;
}

/**
 * Lists the problems of the given entry files (paths relative to the repository); `own` is the folder whose
 * declarations are checked (the platform's and the dependencies' are not ours to change).
 */
export function optionalPropertyProblems(entryFiles: readonly string[], own = "src"): OptionalProblem[] {
  const configPath = join(ROOT, "tsconfig.json");
  const config = ts.readConfigFile(configPath, ts.sys.readFile);
  const parsed = ts.parseJsonConfigFileContent(config.config, ts.sys, ROOT);
  const files = entryFiles.map((f) => join(ROOT, f));
  const program = ts.createProgram(files, { ...parsed.options, noEmit: true });
  const checker = program.getTypeChecker();
  const seen = new Set<ts.Type>();
  const problems = new Map<string, OptionalProblem>();
  const isOurs = (node: ts.Node) => {
    const file = node.getSourceFile().fileName;
    return file.startsWith(join(ROOT, own)) && !file.includes("node_modules");
  };

  const visitSignature = (signature: ts.Signature, at: ts.Node) => {
    for (const parameter of signature.getParameters()) {
      visitInput(checker.getTypeOfSymbolAtLocation(parameter, at));
    }
  };

  const visitInput = (type: ts.Type): void => {
    if (seen.has(type)) return;
    seen.add(type);
    if (type.isUnionOrIntersection()) {
      for (const t of type.types) visitInput(t);
      return;
    }
    if (!(type.flags & ts.TypeFlags.Object)) return;
    if (checker.isArrayType(type) || checker.isTupleType(type)) {
      for (const t of checker.getTypeArguments(type as ts.TypeReference)) visitInput(t);
      return;
    }
    // A callback's parameters are what the library hands out, not what a caller passes in.
    if (type.getCallSignatures().length > 0 && type.getProperties().length === 0) return;
    const symbol = type.getSymbol() ?? type.aliasSymbol;
    const owner = type.aliasSymbol?.getName() ?? symbol?.getName() ?? "?";
    const declared = symbol?.getDeclarations() ?? [];
    // Types of the platform (AbortSignal, Uint8Array, Date…) are not ours to change.
    if (declared.length > 0 && !declared.some(isOurs) && type.aliasSymbol === undefined) return;
    for (const property of checker.getPropertiesOfType(type)) {
      const declarations = property.getDeclarations() ?? [];
      const decl = declarations[0];
      if (decl !== undefined && !isOurs(decl)) continue;
      const propertyType = decl
        ? checker.getTypeOfSymbolAtLocation(property, decl)
        : checker.getTypeOfSymbol(property);
      // An optional method of a port (`purge?(…)`) is implemented, not passed: only properties are checked.
      const method = decl !== undefined && (ts.isMethodSignature(decl) || ts.isMethodDeclaration(decl));
      if (property.flags & ts.SymbolFlags.Optional && !method) {
        const own =
          decl && (ts.isPropertySignature(decl) || ts.isPropertyDeclaration(decl)) ? decl : undefined;
        // Made optional by a mapped type (`{ [K in …]?: … }`, `Partial<…>`): the mapped type's template counts.
        const mapped =
          own?.questionToken === undefined ? declared.find((d) => ts.isMappedTypeNode(d)) : undefined;
        const typeNode = mapped === undefined ? own?.type : mapped.type;
        const ok =
          typeNode !== undefined &&
          isOurs(typeNode) &&
          includesUndefined(checker.getTypeFromTypeNode(typeNode));
        if (!ok) {
          const where = decl ?? symbol?.getDeclarations()?.[0];
          const sf = where?.getSourceFile();
          const line = where && sf ? sf.getLineAndCharacterOfPosition(where.getStart()).line + 1 : 0;
          const at = sf ? `${relative(ROOT, sf.fileName)}:${line}` : "?";
          const key = `${at} ${property.getName()}`;
          const typeSpan =
            typeNode !== undefined && isOurs(typeNode)
              ? {
                  file: typeNode.getSourceFile().fileName,
                  start: typeNode.getStart(),
                  end: typeNode.getEnd(),
                }
              : undefined;
          problems.set(key, { at, property: `${owner}.${property.getName()}`, typeSpan });
        }
      }
      // A method or a callback: what it is handed is the library's output, what it returns the caller's input.
      const signatures = checker.getNonNullableType(propertyType).getCallSignatures();
      if (signatures.length > 0) {
        if (!method || process.env.WALK_METHODS) {
          for (const signature of signatures) {
            const returned = signature.getReturnType();
            visitInput(checker.getAwaitedType(returned) ?? returned);
          }
        }
        continue;
      }
      visitInput(propertyType);
    }
  };

  const visitExport = (exported: ts.Symbol, at: ts.Node) => {
    const symbol = exported.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(exported) : exported;
    const decl = symbol.getDeclarations()?.[0];
    if (decl === undefined) return;
    if (symbol.flags & (ts.SymbolFlags.Function | ts.SymbolFlags.Variable)) {
      const type = checker.getTypeOfSymbolAtLocation(symbol, decl);
      for (const s of type.getCallSignatures()) visitSignature(s, decl);
      for (const s of type.getConstructSignatures()) visitSignature(s, decl);
    }
    if (symbol.flags & ts.SymbolFlags.Class) {
      const staticType = checker.getTypeOfSymbolAtLocation(symbol, decl);
      for (const s of staticType.getConstructSignatures()) visitSignature(s, decl);
      for (const p of staticType.getProperties()) {
        const t = checker.getTypeOfSymbolAtLocation(p, decl);
        for (const s of t.getCallSignatures()) visitSignature(s, decl);
      }
    }
    if (symbol.flags & (ts.SymbolFlags.Class | ts.SymbolFlags.Interface | ts.SymbolFlags.TypeAlias)) {
      const type = checker.getDeclaredTypeOfSymbol(symbol);
      for (const p of checker.getPropertiesOfType(type)) {
        if (p.getName().startsWith("#") || p.getName().startsWith("_")) continue;
        const t = checker.getTypeOfSymbolAtLocation(p, decl);
        for (const s of t.getCallSignatures()) visitSignature(s, decl);
      }
      for (const s of type.getCallSignatures()) visitSignature(s, decl);
    }
    void at;
  };

  for (const file of files) {
    const sf = program.getSourceFile(file);
    if (sf === undefined) throw new Error(`not in the program: ${file}`);
    const moduleSymbol = checker.getSymbolAtLocation(sf);
    if (moduleSymbol === undefined) throw new Error(`not a module: ${file}`);
    for (const exported of checker.getExportsOfModule(moduleSymbol)) visitExport(exported, sf);
  }
  return [...problems.values()].sort((a, b) => a.at.localeCompare(b.at, "en"));
}
