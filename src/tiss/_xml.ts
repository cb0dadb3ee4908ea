/**
 * A tiny XML writer for TISS messages: element trees in the TISS namespace, serialized with escaping, checked
 * for ISO-8859-1, and hashed as `epilogo/hash` wants. Internal: never exported from an entry.
 */
import { md5 } from "@noble/hashes/legacy.js";
import { bytesToHex } from "@noble/hashes/utils.js";
import type { TissFieldIssue } from "./errors.js";
import { TissFieldError } from "./errors.js";

/** The TISS target namespace. */
export const TISS_NAMESPACE = "http://www.ans.gov.br/padroes/tiss/schemas";

/** An element: a leaf with text, or a parent with children. `path` names it in errors (XSD element path). */
export type XmlNode =
  | { readonly name: string; readonly text: string; readonly path: string }
  | { readonly name: string; readonly children: readonly XmlNode[] };

/** Characters an ISO-8859-1 XML 1.0 document can carry as text (no C0/C1 controls but tab and newlines). */
const LATIN1_TEXT = /^[\t\n\r\x20-\x7e\xa0-\xff]*$/;

/** Checks every leaf: ISO-8859-1 characters only; collects one issue per offending path. */
export function checkLatin1(node: XmlNode, issues: TissFieldIssue[] = []): TissFieldIssue[] {
  if ("text" in node) {
    if (!LATIN1_TEXT.test(node.text)) {
      issues.push({ path: node.path, message: "has a character that ISO-8859-1 (or XML) cannot carry" });
    }
  } else for (const c of node.children) checkLatin1(c, issues);
  return issues;
}

const escapeText = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");

/** Serializes `node` (indented by two spaces per level) with the `ans:` prefix. */
export function serialize(node: XmlNode, root: boolean, depth = 0): string {
  const pad = "  ".repeat(depth);
  const ns = root ? ` xmlns:ans="${TISS_NAMESPACE}"` : "";
  if ("text" in node) return `${pad}<ans:${node.name}${ns}>${escapeText(node.text)}</ans:${node.name}>`;
  const inner = node.children.map((c) => serialize(c, false, depth + 1)).join("\n");
  return `${pad}<ans:${node.name}${ns}>\n${inner}\n${pad}</ans:${node.name}>`;
}

/** The text of every leaf in document order (whitespace-only text skipped). */
export function texts(node: XmlNode, out: string[] = []): string[] {
  if ("text" in node) {
    if (/\S/.test(node.text)) out.push(node.text);
  } else for (const c of node.children) texts(c, out);
  return out;
}

/** ISO-8859-1 bytes of a string whose characters were checked by {@link checkLatin1}. */
export function latin1Bytes(text: string): Uint8Array {
  const out = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c > 0xff) throw new TissFieldError([{ path: "", message: "a character outside ISO-8859-1" }]);
    out[i] = c;
  }
  return out;
}

/** MD5 (lower-case hex) of the ISO-8859-1 bytes of the concatenated texts. */
export function tissHashOf(values: readonly string[]): string {
  return bytesToHex(md5(latin1Bytes(values.join(""))));
}

/** A leaf. */
export const leaf = (name: string, text: string, path: string = name): XmlNode => ({ name, text, path });

/** A parent; `undefined` children are left out (optional elements). */
export const el = (name: string, ...children: (XmlNode | undefined)[]): XmlNode => ({
  name,
  children: children.filter((c): c is XmlNode => c !== undefined),
});

/** A leaf when `text` is defined. */
export const opt = (name: string, text: string | undefined, path: string = name): XmlNode | undefined =>
  text === undefined ? undefined : leaf(name, text, path);
