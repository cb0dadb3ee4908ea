import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { CONCEPTS_DOC, withLifecycleDiagram } from "../../../scripts/attendance-diagram.js";
import { attendanceLifecycleDiagram, DESK_CALL_OF_EVENT, GUIDE_TRANSITIONS } from "../../../src/index.js";
import { deskFixture } from "../../helpers/desk.js";

describe("attendance lifecycle diagram", () => {
  it("docs/concepts.md embeds the current diagram (regenerate with `npx tsx scripts/attendance-diagram.ts`)", () => {
    const doc = readFileSync(CONCEPTS_DOC, "utf8");
    expect(doc).toBe(withLifecycleDiagram(doc));
    expect(doc.match(/```mermaid/g)).toHaveLength(1); // one lifecycle diagram
  });

  it("draws every transition, names real desk calls, and marks the revoking steps", () => {
    const diagram = attendanceLifecycleDiagram();
    for (const r of GUIDE_TRANSITIONS) expect(diagram).toContain(`    ${r.from} --> ${r.to} : `);
    const { desk } = deskFixture();
    for (const call of Object.values(DESK_CALL_OF_EVENT)) {
      if (call !== undefined) expect(typeof desk[call]).toBe("function");
    }
    expect(diagram).toContain("authorized --> cancelled : cancel ✂ code");
    expect(diagram).toContain("authorized --> expired : expireIfDue ✂ code");
    expect(diagram).not.toContain("requested --> cancelled : cancel ✂");
  });
});
