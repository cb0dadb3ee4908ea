/**
 * Writes `docs/policy.md`, the policy reference, from `tokenPolicySchema`: every option with its type, its
 * default (`DEFAULT_POLICY`), its allowed range (read from the schema's checks) and the description and source
 * kept in its `.meta()`. `npm run docs:policy`; `test/unit/policy/policy-doc.test.ts` fails when the file is stale.
 */
import { writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { z } from "zod";
import { DEFAULT_POLICY, tokenPolicySchema } from "../src/policy/token-policy.js";

/** Where the document goes. */
export const POLICY_DOC = join(dirname(fileURLToPath(import.meta.url)), "..", "docs", "policy.md");

/** One documented option of the policy. */
export interface PolicyField {
  /** `ttlSeconds`, `app.stepSeconds`, … */
  readonly path: string;
  readonly type: string;
  readonly default: string;
  readonly allowed: string;
  readonly description: string | undefined;
  readonly source: string | undefined;
}

/** One table of the reference: the top level, or a nested object such as `app`. */
export interface PolicyGroup {
  /** `""` for the top level. */
  readonly path: string;
  readonly description: string | undefined;
  readonly source: string | undefined;
  /** Rules across the group's fields (object-level refinements). */
  readonly rules: readonly string[];
  readonly fields: readonly PolicyField[];
}

type Schema = z.core.$ZodType;
type Check = { _zod: { def: { check: string; minimum?: number; maximum?: number; error?: unknown } } };

const defOf = (schema: Schema) => schema._zod.def as unknown as Record<string, unknown> & { type: string };
const checksOf = (schema: Schema) => (defOf(schema).checks ?? []) as Check[];

/** The schema under `.default()`, `.prefault()` and `.optional()`, and whether one of them made it optional. */
function unwrap(schema: Schema): { inner: Schema; optional: boolean } {
  let inner = schema;
  let optional = false;
  for (;;) {
    const def = defOf(inner);
    if (def.type === "default" || def.type === "prefault" || def.type === "optional") {
      optional ||= def.type === "optional";
      inner = def.innerType as Schema;
    } else return { inner, optional };
  }
}

/** The messages of a schema's `.refine()` checks. */
function refinements(schema: Schema): string[] {
  return checksOf(schema)
    .filter((c) => c._zod.def.check === "custom")
    .map((c) => {
      const error = c._zod.def.error;
      const message = typeof error === "function" ? (error as (issue: object) => unknown)({}) : error;
      if (typeof message !== "string") throw new Error("policy-doc: a refinement without a message");
      return message;
    });
}

const number = (n: number) => n.toLocaleString("en-US");

function seconds(n: number): string {
  if (n === 0 || n % 60 !== 0) return "";
  if (n % 86_400 === 0) return ` (${n / 86_400} d)`;
  if (n % 3_600 === 0) return ` (${n / 3_600} h)`;
  return ` (${n / 60} min)`;
}

function describeType(schema: Schema): { type: string; allowed: string[] } {
  const def = defOf(schema);
  const rules = refinements(schema);
  switch (def.type) {
    case "number": {
      const n = schema as unknown as z.ZodNumber;
      const range = `${number(n.minValue ?? -Infinity)} to ${number(n.maxValue ?? Infinity)}`;
      return { type: n.isInt ? "integer" : "number", allowed: [range, ...rules] };
    }
    case "string": {
      const s = schema as unknown as z.ZodString;
      return {
        type: "string",
        allowed: [`${s.minLength ?? 0} to ${s.maxLength ?? "any"} characters`, ...rules],
      };
    }
    case "boolean":
      return { type: "boolean", allowed: ["`true`, `false`"] };
    case "enum": {
      const options = (schema as unknown as z.ZodEnum).options.map((o) => `\`${JSON.stringify(o)}\``);
      return { type: "string", allowed: [`one of ${options.join(", ")}`, ...rules] };
    }
    case "array": {
      const element = describeType(def.element as Schema);
      const length = checksOf(schema).map((c) => c._zod.def);
      const min = length.find((c) => c.check === "min_length")?.minimum ?? 0;
      const max = length.find((c) => c.check === "max_length")?.maximum;
      const count = max === undefined ? `at least ${min}` : `${min} to ${max}`;
      const items = max === undefined && min === 1 ? "item" : "items";
      return {
        type: `${element.type}[]`,
        allowed: [`${count} ${items}, each ${element.allowed.join("; ")}`, ...rules],
      };
    }
    default:
      throw new Error(`policy-doc: no rendering for a zod ${def.type}`);
  }
}

function valueAt(path: string): unknown {
  let value: unknown = DEFAULT_POLICY;
  for (const key of path.split(".")) value = (value as Record<string, unknown> | undefined)?.[key];
  return value;
}

function describeDefault(path: string, optional: boolean): string {
  const value = valueAt(path);
  if (value === undefined) return optional ? "not set" : "—";
  const text = `\`${JSON.stringify(value)}\``;
  return typeof value === "number" && path.endsWith("Seconds") ? `${text}${seconds(value)}` : text;
}

const meta = (schema: Schema) =>
  z.globalRegistry.get(schema) as { description?: string; source?: string } | undefined;

/** Every group of the policy, each with its fields, in the schema's order. */
export function policyGroups(): PolicyGroup[] {
  const groups: PolicyGroup[] = [];
  const walk = (path: string, object: Schema, outer: Schema | undefined) => {
    const fields: PolicyField[] = [];
    const nested: Array<[string, Schema, Schema]> = [];
    for (const [key, field] of Object.entries(defOf(object).shape as Record<string, Schema>)) {
      const fieldPath = path ? `${path}.${key}` : key;
      const { inner, optional } = unwrap(field);
      if (defOf(inner).type === "object") {
        nested.push([fieldPath, inner, field]);
        continue;
      }
      const { type, allowed } = describeType(inner);
      fields.push({
        path: fieldPath,
        type,
        default: describeDefault(fieldPath, optional),
        allowed: allowed.join("; "),
        description: meta(field)?.description,
        source: meta(field)?.source,
      });
    }
    const info = outer === undefined ? undefined : meta(outer);
    groups.push({
      path,
      description: info?.description,
      source: info?.source,
      rules: refinements(object),
      fields,
    });
    for (const [nestedPath, inner, field] of nested) walk(nestedPath, inner, field);
  };
  walk("", tokenPolicySchema, undefined);
  return groups;
}

const cell = (text: string | undefined) => (text ?? "").replaceAll("|", "\\|");

/** The full text of `docs/policy.md`. */
export function renderPolicyDoc(): string {
  const lines = [
    "# Policy reference",
    "",
    "<!-- Generated by `npm run docs:policy` from `tokenPolicySchema`; do not edit by hand. -->",
    "",
    "Every rule of the token service, with its default. Pass any subset as `policy` to `createTokenService`",
    "(`policy: { ttlSeconds: 600 }`); `resolvePolicy(input)` fills in the rest and throws a `ConfigError` naming",
    "every bad field. The resolved policy is `tokens.policy`; the defaults are `DEFAULT_POLICY`. The source",
    'column says where a default comes from; "health-token\'s choice" means no outside rule sets it.',
    "",
  ];
  for (const group of policyGroups()) {
    lines.push(group.path === "" ? "## Top level" : `## \`${group.path}\``, "");
    if (group.description) lines.push(group.description, "");
    if (group.source) lines.push(`Source: ${group.source}.`, "");
    for (const rule of group.rules) lines.push(`Across the fields: ${rule}.`, "");
    lines.push("| option | type | default | allowed | description | source |", "|---|---|---|---|---|---|");
    for (const f of group.fields) {
      lines.push(
        `| \`${f.path}\` | ${f.type} | ${cell(f.default)} | ${cell(f.allowed)} | ${cell(f.description)} | ${cell(f.source)} |`,
      );
    }
    lines.push("");
  }
  return lines.join("\n");
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  writeFileSync(POLICY_DOC, renderPolicyDoc());
  console.log(`wrote ${POLICY_DOC}`);
}
