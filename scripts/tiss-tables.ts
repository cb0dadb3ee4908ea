/**
 * Generates the TISS enumerations that the library speaks from the ANS TISS 4.01.00 simple-types schema
 * (`test/fixtures/tiss/4.01.00/tissSimpleTypesV4_01_00.xsd`): `npx tsx scripts/tiss-tables.ts` (or
 * `npm run tiss:tables`) writes
 *
 * - `src/tiss/_codes.generated.ts`: the small vocabulary the guide machine (root entry) validates with:
 *   councils, UF, CBO-S codes, `dm_tabela`, tables 23, 45, 52, 72 and 74;
 * - `src/tiss/_labels.generated.ts`: what only `health-token/tiss` needs: council and UF names, CBO-S labels,
 *   the 624 glosa codes of `dm_tipoGlosa` with their labels, and the code lists of the other domains the XML
 *   builders check.
 *
 * Codes come from the `<enumeration>` facets (the schema wins); labels from the comments beside them.
 * `test/unit/tiss/tables.test.ts` regenerates the tables in memory and fails when the committed files and the XSD
 * drift apart (it compares the values, in order; Biome owns the layout).
 */
import { execFileSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");

/** The schema the tables are generated from (the copy kept in the repository). */
export const SIMPLE_TYPES_XSD = join(
  ROOT,
  "test",
  "fixtures",
  "tiss",
  "4.01.00",
  "tissSimpleTypesV4_01_00.xsd",
);
/** Where the root entry's vocabulary goes. */
export const CODES_FILE = join(ROOT, "src", "tiss", "_codes.generated.ts");
/** Where the `health-token/tiss` labels go. */
export const LABELS_FILE = join(ROOT, "src", "tiss", "_labels.generated.ts");

/** One `<simpleType>` of the schema: its enumeration values (in schema order) and its comment text. */
export interface SimpleType {
  readonly name: string;
  readonly values: readonly string[];
  readonly comments: readonly string[];
}

/** Reads every `<simpleType name="…">` of a schema (the text decoded from ISO-8859-1). */
export function readSimpleTypes(xsd: string): Map<string, SimpleType> {
  const out = new Map<string, SimpleType>();
  for (const m of xsd.matchAll(/<simpleType name="([^"]+)">([\s\S]*?)<\/simpleType>/g)) {
    const body = m[2]!;
    const comments = [...body.matchAll(/<!--([\s\S]*?)-->/g)].map((c) => c[1]!);
    const bare = body.replace(/<!--[\s\S]*?-->/g, "");
    const values = [...bare.matchAll(/<enumeration value="([^"]*)"\s*\/>/g)].map((v) => v[1]!);
    out.set(m[1]!, { name: m[1]!, values, comments });
  }
  return out;
}

/** The label of each code found in the comments: lines such as `01 label`, `1 - label`, `1- label`. */
function labelsOf(type: SimpleType): Map<string, string> {
  const codes = new Set(type.values);
  const labels = new Map<string, string>();
  for (const comment of type.comments) {
    for (const raw of comment.split(/\r?\n/)) {
      const m = /^\s*(\S+?)\s*(?:-\s*|\s+)(\S.*?)\s*$/.exec(raw);
      if (!m || !codes.has(m[1]!) || labels.has(m[1]!)) continue;
      labels.set(m[1]!, m[2]!.replace(/\s+/g, " "));
    }
  }
  return labels;
}

function need(types: Map<string, SimpleType>, name: string): SimpleType {
  const t = types.get(name);
  if (!t || t.values.length === 0) throw new Error(`tiss-tables: no enumeration ${name} in the schema`);
  return t;
}

/** Codes (non-empty, first occurrence kept) with their labels; fails when a code has no label. */
function labelled(types: Map<string, SimpleType>, name: string): [string, string][] {
  const t = need(types, name);
  const labels = labelsOf(t);
  return unique(t.values).map((code) => {
    const label = labels.get(code);
    if (label === undefined) throw new Error(`tiss-tables: ${name} ${code} has no label in the schema`);
    return [code, label];
  });
}

function unique(values: readonly string[]): string[] {
  return [...new Set(values.filter((v) => v !== ""))];
}

/** A generated constant: its doc comment and its value (a code → label record, or a list of codes). */
export interface GeneratedTable {
  readonly doc: string;
  readonly value: Readonly<Record<string, string>> | readonly string[];
}

/** Both generated files, as data: export name → table, in file order. */
export interface TissTables {
  readonly codes: Readonly<Record<string, GeneratedTable>>;
  readonly labels: Readonly<Record<string, GeneratedTable>>;
}

const rec = (doc: string, entries: readonly (readonly [string, string])[]): GeneratedTable => ({
  doc,
  value: Object.fromEntries(entries),
});

/** The other domains the XML builders check (caller data), generated as code lists. */
const CALLER_DOMAINS = [
  "dm_simNao",
  "dm_regimeAtendimento",
  "dm_indicadorAcidente",
  "dm_tipoAtendimento",
  "dm_saudeOcupacional",
  "dm_cobEsp",
] as const;

/** `dm_regimeAtendimento` → `REGIME_ATENDIMENTO_CODES`. */
const constName = (domain: string) =>
  `${domain
    .slice(3)
    .replace(/[A-Z]/g, (c) => `_${c}`)
    .toUpperCase()}_CODES`;

/** The tables, from the simple-types schema's text. */
export function tissTables(xsd: string): TissTables {
  const types = readSimpleTypes(xsd);
  const councils = labelled(types, "dm_conselhoProfissional").map(([code, label]) => {
    // `06 CRM Conselho Regional de Medicina` or `Conselho Regional de Biologia (CRBio)`.
    const paren = /^(.*?)\s*\(([^)]+)\)$/.exec(label);
    if (paren) return { code, sigla: paren[2]!, name: paren[1]! };
    const [sigla, ...rest] = label.split(" ");
    return { code, sigla: sigla!, name: rest.join(" ") };
  });
  const ufs = labelled(types, "dm_UF").map(([code, label]) => {
    const m = /^(.*?)\s+([A-Z]{2})$/.exec(label);
    if (!m) throw new Error(`tiss-tables: dm_UF ${code} label has no sigla`);
    return { code, sigla: m[2]!, name: m[1]! };
  });
  const cbo = labelled(types, "dm_CBOS");
  const codes: Record<string, GeneratedTable> = {
    COUNCIL_SIGLA_BY_CODE: rec(
      "`dm_conselhoProfissional`: the professional council codes with their siglas.",
      councils.map((c) => [c.code, c.sigla]),
    ),
    UF_SIGLA_BY_CODE: rec(
      "`dm_UF`: the IBGE codes of the federative units (and 98, países estrangeiros) with their siglas.",
      ufs.map((u) => [u.code, u.sigla]),
    ),
    CBOS_CODES: {
      doc: "`dm_CBOS`: the CBO-S occupation codes the schema accepts, in schema order, each once.",
      value: cbo.map(([c]) => c),
    },
    TABELA_CODES: {
      doc: "`dm_tabela`: the tables a procedure code may come from.",
      value: unique(need(types, "dm_tabela").values),
    },
    TABLE_23: rec("Table 23, `dm_caraterAtendimento`.", labelled(types, "dm_caraterAtendimento")),
    TABLE_45: rec("Table 45, `dm_statusSolicitacao`.", labelled(types, "dm_statusSolicitacao")),
    TABLE_52: rec("Table 52, `dm_tipoConsulta`.", labelled(types, "dm_tipoConsulta")),
    TABLE_72: rec("Table 72, `dm_tipoIdent`.", labelled(types, "dm_tipoIdent")),
    TABLE_74: rec("Table 74, `dm_ausenciaCodValidacao`.", labelled(types, "dm_ausenciaCodValidacao")),
  };
  const labels: Record<string, GeneratedTable> = {
    COUNCIL_NAMES: rec(
      "`dm_conselhoProfissional`: the council names.",
      councils.map((c) => [c.code, c.name]),
    ),
    UF_NAMES: rec(
      "`dm_UF`: the names of the federative units.",
      ufs.map((u) => [u.code, u.name]),
    ),
    CBOS_LABELS: rec("`dm_CBOS`: the occupation of each CBO-S code.", cbo),
    GLOSAS: rec(
      "`dm_tipoGlosa` (table 38): every glosa code with its label.",
      labelled(types, "dm_tipoGlosa"),
    ),
  };
  for (const d of CALLER_DOMAINS) {
    labels[constName(d)] = {
      doc: `\`${d}\`: its codes, in schema order.`,
      value: unique(need(types, d).values),
    };
  }
  return { codes, labels };
}

/** The header of both files. */
export const GENERATED_HEADER =
  "// Generated by `npx tsx scripts/tiss-tables.ts` from the ANS TISS 4.01.00 schema (tissSimpleTypesV4_01_00.xsd).\n" +
  "// Do not edit by hand: regenerate it. test/unit/tiss/tables.test.ts fails when this file and the schema drift apart.\n";

/** The TypeScript text of one file (before Biome formats it). */
export function renderTables(tables: Readonly<Record<string, GeneratedTable>>): string {
  const parts = [GENERATED_HEADER];
  for (const [name, { doc, value }] of Object.entries(tables)) {
    const literal = Array.isArray(value)
      ? `[\n${value.map((v) => `  ${JSON.stringify(v)},`).join("\n")}\n]`
      : `{\n${Object.entries(value)
          .map(([k, v]) => `  ${JSON.stringify(k)}: ${JSON.stringify(v)},`)
          .join("\n")}\n}`;
    parts.push(`/** ${doc} */\nexport const ${name} = /* @__PURE__ */ Object.freeze(${literal} as const);\n`);
  }
  return parts.join("\n");
}

/** Reads the schema copy in the repository (ISO-8859-1). */
export function readSimpleTypesXsd(path = SIMPLE_TYPES_XSD): string {
  return readFileSync(path).toString("latin1");
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const { codes, labels } = tissTables(readSimpleTypesXsd());
  writeFileSync(CODES_FILE, renderTables(codes));
  writeFileSync(LABELS_FILE, renderTables(labels));
  // Biome lays the literals out as the rest of the code base; the drift test compares values, not layout.
  execFileSync(join(ROOT, "node_modules", ".bin", "biome"), ["format", "--write", CODES_FILE, LABELS_FILE], {
    stdio: "inherit",
  });
  console.log(`wrote ${CODES_FILE} and ${LABELS_FILE}`);
}
