/**
 * Shared helpers of the TISS suites: the XSD validator (xmllint-wasm over the schema copy in the repository),
 * an independent hash of a document, and guides that went through the real flow. All data is made up.
 */
import { createHash } from "node:crypto";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { validateXML } from "xmllint-wasm";
import {
  createGuide,
  createTokenService,
  type Guide,
  type GuideInput,
  MemoryTokenStore,
  transition,
} from "../../../src/index.js";
import { FakeClock, OutboxNotifier } from "../../../src/testing/index.js";
import { testPepper } from "../../helpers/keys.js";

export const XSD_DIR = join(import.meta.dirname, "..", "..", "fixtures", "tiss", "4.01.00");
const ROOT_XSD = "tissV4_01_00.xsd";
const files = readdirSync(XSD_DIR).filter((f) => f.endsWith(".xsd"));
const schema = { fileName: ROOT_XSD, contents: readFileSync(join(XSD_DIR, ROOT_XSD)) };
const preload = files
  .filter((f) => f !== ROOT_XSD)
  .map((f) => ({ fileName: f, contents: readFileSync(join(XSD_DIR, f)) }));

/** Validates a whole document (its bytes) against the TISS 4.01.00 schema; returns the error messages. */
export async function xsdErrors(bytes: Uint8Array | string): Promise<string[]> {
  const contents = typeof bytes === "string" ? Buffer.from(bytes, "latin1") : bytes;
  const r = await validateXML({
    xml: [{ fileName: "mensagem.xml", contents }],
    schema: [schema],
    preload,
    initialMemoryPages: 512,
    maxMemoryPages: 4096,
  });
  return r.valid ? [] : r.errors.map((e) => e.rawMessage);
}

/**
 * The TISS hash computed independently of the library: decode the bytes as ISO-8859-1, take every text
 * between tags (no nested markup), skip whitespace-only text and the hash element's own text, unescape the
 * five XML entities, concatenate, MD5 with node:crypto over ISO-8859-1 bytes.
 */
export function independentHash(bytes: Uint8Array): string {
  const doc = Buffer.from(bytes)
    .toString("latin1")
    .replace(/<ans:hash>[^<]*<\/ans:hash>/, "");
  const pieces = [...doc.matchAll(/>([^<]*)</g)].map((m) => m[1]!).filter((t) => /\S/.test(t));
  const text = pieces
    .join("")
    .replace(/&lt;/g, "<")
    .replace(/&gt;/g, ">")
    .replace(/&quot;/g, '"')
    .replace(/&apos;/g, "'")
    .replace(/&amp;/g, "&");
  return createHash("md5").update(Buffer.from(text, "latin1")).digest("hex");
}

/** 2026-11-23T22:30 in São Paulo: 01:30 UTC of the next day (a naive UTC date would say the 24th). */
export const LATE_EVENING = Date.UTC(2026, 10, 24, 1, 30, 0);

const beneficiary = {
  id: "BEN-TISS-1",
  birthDate: "1980-02-10",
  contacts: [{ id: "s1", channel: "sms" as const, address: "(41) 98888-0007" }],
};

/**
 * A guide through the real flow, at {@link LATE_EVENING}: createGuide → authorize → issue and verify a token
 * on the memory store → confirm with the receipt (or with an absence reason when `absence` is set).
 */
export async function confirmedGuide(
  overrides: Partial<GuideInput> = {},
  options: { absence?: boolean; numeroGuiaOperadora?: string } = {},
): Promise<Guide> {
  const clock = new FakeClock(LATE_EVENING);
  const outbox = new OutboxNotifier();
  const tokens = createTokenService({
    store: new MemoryTokenStore(),
    notifier: outbox,
    pepper: testPepper("t"),
    clock,
  });
  let g = createGuide({
    id: "GUIA-0001",
    type: "consulta",
    character: "eletiva",
    beneficiary: { cardNumber: "0064000000000001" },
    provider: {
      code: "CLIN-042",
      professional: { council: "CRM", number: "99999", uf: "PR", cbo: "225125" },
    },
    procedures: [{ tuss: "10101012", quantity: 1 }],
    ...overrides,
  });
  g = transition(
    g,
    {
      type: "authorize",
      senha: "SENHA-77",
      validUntil: "2026-12-23",
      numeroGuiaOperadora: options.numeroGuiaOperadora ?? "OP-2026-77",
    },
    { nowMs: clock.now() },
  );
  if (options.absence) {
    return transition(
      g,
      { type: "confirm", absence: { reason: "07", justification: "sem celular" } },
      { nowMs: clock.now() },
    );
  }
  await tokens.issue({ guide: { id: g.id, providerId: g.provider.code }, beneficiary });
  const code = outbox.lastCodeFor(beneficiary.id)!;
  const r = await tokens.verify({ guideId: g.id, providerId: g.provider.code, code });
  if (!r.ok) throw new Error(`verification failed: ${r.reason}`);
  return transition(g, { type: "confirm", receipt: r.receipt }, { nowMs: clock.now() });
}
