import { describe, expect, it } from "vitest";
import { MemoryTokenStore } from "../../../src/adapters/memory.js";
import { ConformanceAssertionError, conformanceExpect } from "../../../src/testing/expect.js";
import { runStoreConformance } from "../../../src/testing/store-conformance.js";

describe("conformanceExpect", () => {
  it("counts a key holding undefined as absent, on either side and nested", () => {
    conformanceExpect({ a: 1, guideId: undefined }).toEqual({ a: 1 });
    conformanceExpect({ a: 1 }).toEqual({ a: 1, guideId: undefined });
    conformanceExpect([{ x: [1, { y: undefined }] }]).toEqual([{ x: [1, {}] }]);
  });

  it("still tells different values, lengths, types and null apart", () => {
    const cases: [unknown, unknown][] = [
      [{ a: 1 }, { a: 2 }],
      [{ a: 1 }, { a: 1, b: null }],
      [
        [1, 2],
        [1, 2, 3],
      ],
      [[1], { 0: 1 }],
      [null, {}],
      ["1", 1],
      [{ a: undefined }, { a: null }],
    ];
    for (const [a, b] of cases)
      expect(() => conformanceExpect(a).toEqual(b)).toThrow(ConformanceAssertionError);
  });

  it("labels a failure with what was compared", () => {
    expect(() => conformanceExpect(195, "ok results among 200 concurrent correct attempts").toBe(1)).toThrow(
      "ok results among 200 concurrent correct attempts: expected 195 to be 1",
    );
    expect(() => conformanceExpect("x").toBeUndefined()).toThrow('expected "x" to be undefined');
    expect(() => conformanceExpect(Number.NaN).toBe(Number.NaN)).not.toThrow();
  });
});

describe("runStoreConformance's skip", () => {
  /** Declares the suite into arrays instead of a runner, to inspect what it declared. */
  const declare = (skip: Record<string, string>, withSkip: boolean) => {
    const cases: { title: string; body: () => Promise<void> }[] = [];
    const skipped: string[] = [];
    const runnerIt = Object.assign(
      (title: string, body: () => Promise<void>) => void cases.push({ title, body }),
      {
        skip: (title: string) => void skipped.push(title),
      },
    );
    runStoreConformance({
      name: "memory",
      createStore: () => new MemoryTokenStore(),
      capabilities: { sharedAcrossInstances: false },
      skip,
      test: {
        describe: (_name, body) => body(),
        it: withSkip ? runnerIt : (t, b) => void cases.push({ title: t, body: b }),
      },
    });
    return { cases, skipped };
  };

  it("skips a named case with its reason, through it.skip when the runner has one", async () => {
    const title = "keys are independent and peek changes nothing";
    const { cases, skipped } = declare({ [title]: "no peek yet" }, true);
    // the other skipped cases: the interrupted steps, declared skipped without an interrupt hook
    const named = skipped.filter((t) => !t.startsWith("interrupted "));
    expect(named).toEqual([`${title} (skipped: no peek yet)`]);
    expect(skipped.length - named.length).toBe(5);
    expect(cases.map((c) => c.title)).not.toContain(title);
    await cases.find((c) => c.title === "every skipped case exists")!.body();
  });

  it("fails when a skipped title matches no case", async () => {
    const { cases } = declare({ "no such case": "typo" }, false);
    const check = cases.find((c) => c.title === "every skipped case exists")!;
    await expect(check.body()).rejects.toThrow(
      'skipped titles that match no case: expected ["no such case"]',
    );
  });
});
