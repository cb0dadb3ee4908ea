/**
 * Optional inputs accept an explicit `undefined` (issue #15): a caller compiled with
 * `exactOptionalPropertyTypes` can pass `body.contactId` where the library takes `contactId?`.
 *
 * - `tsc -p test/types` compiles optional-undefined.ts against the built declarations; a fixture with an
 *   input type lacking `| undefined` must fail under the same settings (TS2379, TS2375);
 * - the same file, run, behaves as if the `undefined` fields were left out;
 * - every optional property reachable from a public parameter, in every entry, declares `undefined`
 *   (a walk of the public API with the compiler), so a new option cannot forget it.
 */
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { describe, expect, it } from "vitest";
import { entries } from "../../tsup.config.js";
import { optionalPropertyProblems } from "./_optional-props.js";
import { exercise } from "./optional-undefined.js";

const tsc = createRequire(import.meta.url).resolve("typescript/bin/tsc");

/** Runs tsc on a project; its exit status and output. */
function compile(project: string): { status: number; output: string } {
  try {
    const output = execFileSync(process.execPath, [tsc, "-p", project, "--noEmit", "--pretty", "false"], {
      encoding: "utf8",
      stdio: ["ignore", "pipe", "pipe"],
      timeout: 120_000,
    });
    return { status: 0, output };
  } catch (error) {
    const failed = error as { status?: number; stdout?: string; stderr?: string };
    return { status: failed.status ?? -1, output: `${failed.stdout ?? ""}${failed.stderr ?? ""}` };
  }
}

describe("exactOptionalPropertyTypes: optional inputs take an explicit undefined", () => {
  it("the built declarations accept undefined in every optional field of the main calls", () => {
    expect(existsSync("dist/index.d.ts"), "run `npm run build` first (npm test does)").toBe(true);
    const { status, output } = compile("test/types");
    expect(output).toBe("");
    expect(status).toBe(0);
  }, 120_000);

  it("negative control: an optional field without `| undefined` fails under the same settings", () => {
    const { status, output } = compile("test/types/fixtures");
    expect(status).not.toBe(0);
    expect(output).toMatch(/regressed\.ts\(\d+,\d+\): error TS2379:/);
    expect(output).toMatch(/regressed\.ts\(\d+,\d+\): error TS2375:/);
    expect(output.match(/error TS/g)).toHaveLength(2);
  }, 120_000);

  it("an explicit undefined behaves as a field left out", async () => {
    expect(await exercise()).toEqual([
      "policy ttl 1800 attempts 5",
      "contacts 1",
      "issued sent",
      "verified true",
      "history true",
      "limits none",
      "event token.delivered",
      "report unknown_token", // no reference and no guideId, as when both are left out
      "confirmed true",
      "tiss true true",
      "rendered true",
      "totp true",
      "hotp true",
      "base32 true",
      "uri true",
      "webhook false",
      "receipts RECEIPT_REJECTED",
      "http 401",
    ]);
  });
});

describe("the public API walk", () => {
  it("finds no optional input property without undefined in any entry", () => {
    const problems = optionalPropertyProblems(Object.values(entries));
    expect(problems.map((p) => `${p.at} ${p.property}`)).toEqual([]);
  }, 120_000);

  it("reports exactly the fields of its fixture that lack undefined, and none of the outputs", () => {
    const problems = optionalPropertyProblems(["test/types/fixtures/walker-input.ts"], "test/types/fixtures");
    expect(problems.map((p) => p.property.replace(/^.*\./, "")).sort()).toEqual([
      "badEmail",
      "badNested",
      "badPlain",
      "badReturned",
      "badSms",
    ]);
  }, 120_000);
});
