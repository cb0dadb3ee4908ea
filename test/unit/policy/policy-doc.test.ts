import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { POLICY_DOC, policyGroups, renderPolicyDoc } from "../../../scripts/policy-doc.js";
import { DEFAULT_POLICY, resolvePolicy } from "../../../src/policy/token-policy.js";

describe("docs/policy.md", () => {
  it("is the reference generated from the schema (run `npm run docs:policy` after changing the policy)", () => {
    const committed = readFileSync(POLICY_DOC, "utf8");
    expect(committed === renderPolicyDoc(), "docs/policy.md is stale: run `npm run docs:policy`").toBe(true);
  });

  it("gives every option a description and a source", () => {
    const fields = policyGroups().flatMap((g) => g.fields);
    const undocumented = fields.filter((f) => !f.description?.trim() || !f.source?.trim()).map((f) => f.path);
    expect(undocumented).toEqual([]);
    for (const group of policyGroups().filter((g) => g.path !== "")) {
      expect(group.description, `${group.path} has no description`).toBeTruthy();
      expect(group.source, `${group.path} has no source`).toBeTruthy();
    }
  });

  it("lists every option of the resolved policy, nested ones included", () => {
    const documented = policyGroups()
      .flatMap((g) => g.fields)
      .map((f) => f.path)
      .sort();
    const keys = (value: object, prefix = ""): string[] =>
      Object.entries(value).flatMap(([k, v]) =>
        v !== null && typeof v === "object" && !Array.isArray(v)
          ? keys(v, `${prefix}${k}.`)
          : [`${prefix}${k}`],
      );
    // Options without a default (operatorName, app.pastSteps, app.futureSteps) are absent from DEFAULT_POLICY.
    const full = resolvePolicy({ operatorName: "Plano Exemplo", app: { pastSteps: 1, futureSteps: 1 } });
    expect(documented).toEqual(keys(full).sort());
  });

  it("states the ranges the schema enforces", () => {
    const field = (path: string) =>
      policyGroups()
        .flatMap((g) => g.fields)
        .find((f) => f.path === path);
    expect(field("digits")).toMatchObject({ type: "integer", default: "`6`", allowed: "4 to 10" });
    expect(field("ttlSeconds")?.default).toBe(`\`${DEFAULT_POLICY.ttlSeconds}\` (30 min)`);
    // The documented bounds are the ones resolvePolicy applies.
    expect(() => resolvePolicy({ digits: 3 })).toThrow(/digits/);
    expect(() => resolvePolicy({ digits: 11 })).toThrow(/digits/);
    expect(resolvePolicy({ digits: 10 }).digits).toBe(10);
    expect(field("channelOrder")?.allowed).toContain("channels must not repeat");
    expect(field("locale")?.allowed).toBe('one of `"pt-BR"`, `"en"`');
    const app = policyGroups().find((g) => g.path === "app");
    expect(app?.rules).toEqual(["at most 16 steps may be accepted per code (pastSteps + futureSteps + 1)"]);
  });
});
