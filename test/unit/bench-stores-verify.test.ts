/**
 * The store verify bench (bench/stores-verify.bench.ts) runs end to end in quick mode on the memory store: every
 * verify of a correct code succeeds (the bench throws otherwise), every issue reaches the notifier, and the store
 * calls it prints agree with the form it says ran. No time is asserted.
 */
import { describe, expect, it } from "vitest";
import run from "../../bench/stores-verify.bench.js";

/** The cells of the first table row that starts with `| <store> |` after `heading`. */
function row(section: string, heading: string, store: string): string[] {
  const after = section.slice(section.indexOf(heading));
  const line = after.split("\n").find((l) => l.startsWith(`| ${store} |`));
  if (line === undefined) throw new Error(`no ${store} row after ${heading}`);
  return line
    .split("|")
    .slice(1, -1)
    .map((cell) => cell.trim());
}

describe("bench: stores verify (quick, memory)", () => {
  it("verifies through the service and prints round trips and latency rows", async () => {
    const section = await run({ quick: true, stores: ["memory"] });
    expect(section).toMatch(/^## Stores: verify through the service/);

    const [, steps, verifyDriver, verifyStore, issueDriver, issueStore] = row(
      section,
      "| store | steps (issue / verify)",
      "MemoryTokenStore",
    );
    const [issueStep, verifyStep] = steps!.split(" / ");
    expect(verifyDriver).toBe("–"); // no driver
    expect(issueDriver).toBe("–");
    // one store call per step when the store has it; composed: the attempt and the `token.verified` append
    expect(Number(verifyStore)).toBe(verifyStep === "yes" ? 1 : 2);
    // composed issue: 3 counter peeks, 2 increments, the save, `token.issued`, `token.delivery_started`
    expect(Number(issueStore)).toBe(issueStep === "yes" ? 1 : 8);

    if (verifyStep === "yes" || issueStep === "yes") {
      // measured again composed, through `withoutSteps`
      const composed = row(
        section,
        "| store | steps (issue / verify)",
        "MemoryTokenStore, composed (`withoutSteps`)",
      );
      expect(composed[1]).toBe("no / no");
      expect([Number(composed[3]), Number(composed[5])]).toEqual([2, 8]);
    }

    const latency = row(section, "| store | steps (verify) | p50 @1", "MemoryTokenStore");
    expect(latency).toHaveLength(8);
    for (const cell of latency.slice(2)) expect(Number.isFinite(Number(cell))).toBe(true);
    // the raw baseline's latency beside it, at the same levels
    const raw = row(
      section,
      "| store | steps (verify) | p50 @1",
      "raw baseline: one code hash and an `await` (a verify's own floor)",
    );
    expect(raw).toHaveLength(8);
    for (const cell of raw.slice(2)) expect(Number(cell)).toBeGreaterThanOrEqual(0);
  });
});
