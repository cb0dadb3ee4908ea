/**
 * Every (state, event) pair: the allowed ones land in the documented state (docs/guide-states.md), all others
 * throw GuideTransitionError. The expected table is written out here by hand, independently of
 * GUIDE_TRANSITIONS, so a wrong row in the source fails this test.
 */
import { describe, expect, it } from "vitest";
import { GuideTransitionError } from "../../../src/errors.js";
import {
  availableEvents,
  GUIDE_EVENT_TYPES,
  GUIDE_STATES,
  GUIDE_TRANSITIONS,
  transition,
} from "../../../src/guide/index.js";
import { authorizeEvent, BILLING_END_MS, EXPECTED, eventFor, guideIn, T0, TERMINAL } from "./_fixtures.js";

describe("transition table: every (state, event) pair", () => {
  const pairs = GUIDE_STATES.flatMap((state) => GUIDE_EVENT_TYPES.map((event) => [state, event] as const));

  it("covers 14 states x 12 events", () => {
    expect(pairs).toHaveLength(14 * 12);
  });

  it.each(pairs)("%s + %s", (state, event) => {
    const guide = guideIn(state);
    // `expire` is only due once time has run out; every other event is tried while the senha is valid.
    const nowMs = event === "expire" ? BILLING_END_MS : T0 + 3_600_000;
    const expected = EXPECTED[state][event];
    if (expected) {
      const next = transition(guide, eventFor(guide, event), { nowMs });
      expect(next.state).toBe(expected);
      expect(next.history.at(-1)).toEqual({ from: state, to: expected, event, atMs: nowMs });
      expect(next.history).toHaveLength(guide.history.length + 1);
    } else {
      let caught: unknown;
      try {
        transition(guide, eventFor(guide, event), { nowMs });
      } catch (error) {
        caught = error;
      }
      expect(caught).toBeInstanceOf(GuideTransitionError);
      const e = caught as GuideTransitionError;
      expect(e.code).toBe("GUIDE_TRANSITION");
      expect(e.state).toBe(state);
      expect(e.event).toBe(event);
      expect(e.reason).toBe(TERMINAL.has(state) ? "terminal_state" : "illegal_event");
      expect(e.message).toContain(state);
      expect(e.message).toContain(event);
    }
  });

  it("authorize with partial: true lands in partially_authorized from every review state", () => {
    for (const state of [
      "requested",
      "under_review",
      "awaiting_justification",
      "awaiting_documents",
    ] as const) {
      expect(transition(guideIn(state), authorizeEvent(true), { nowMs: T0 }).state).toBe(
        "partially_authorized",
      );
    }
  });

  it("GUIDE_TRANSITIONS holds exactly the expected pairs (plus the partial authorize rows)", () => {
    const fromSource = new Set(GUIDE_TRANSITIONS.map((r) => `${r.from} ${r.event} ${r.to}`));
    const expected = new Set<string>();
    for (const state of GUIDE_STATES) {
      for (const [event, to] of Object.entries(EXPECTED[state])) expected.add(`${state} ${event} ${to}`);
      if (EXPECTED[state].authorize) expected.add(`${state} authorize partially_authorized`);
    }
    expect(fromSource).toEqual(expected);
  });

  it("availableEvents without a time lists exactly the allowed events of each state", () => {
    for (const state of GUIDE_STATES) {
      const allowed = GUIDE_EVENT_TYPES.filter((e) => EXPECTED[state][e] !== undefined);
      expect(availableEvents(guideIn(state))).toEqual(allowed);
    }
  });
});
