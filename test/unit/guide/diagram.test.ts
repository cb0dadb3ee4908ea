import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { GUIDE_STATES_DOC, renderGuideStatesDoc } from "../../../scripts/guide-diagram.js";
import {
  GUIDE_STATES,
  GUIDE_TRANSITIONS,
  guideStateDiagram,
  TERMINAL_GUIDE_STATES,
} from "../../../src/guide/index.js";

describe("guide state diagram", () => {
  it("docs/guide-states.md is up to date (regenerate with `npx tsx scripts/guide-diagram.ts`)", () => {
    expect(readFileSync(GUIDE_STATES_DOC, "utf8")).toBe(renderGuideStatesDoc());
  });

  it("draws every rule of the transition table and every state", () => {
    const diagram = guideStateDiagram();
    expect(diagram.startsWith("stateDiagram-v2\n    [*] --> requested\n")).toBe(true);
    const arrows = diagram
      .split("\n")
      .slice(2)
      .filter((l) => l.includes(" : "))
      .flatMap((l) => {
        const [, from, to, events] = /^ {4}(\w+) --> (\w+) : (.+)$/.exec(l)!;
        return events!.split(", ").map((event) => `${from} ${event} ${to}`);
      });
    expect(new Set(arrows)).toEqual(new Set(GUIDE_TRANSITIONS.map((r) => `${r.from} ${r.event} ${r.to}`)));
    for (const state of GUIDE_STATES) expect(diagram).toMatch(new RegExp(`\\b${state}\\b`));
    for (const state of TERMINAL_GUIDE_STATES) expect(diagram).toContain(`    ${state} --> [*]\n`);
  });
});
