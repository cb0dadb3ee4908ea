/**
 * The attendance lifecycle as one Mermaid diagram, generated from the guide machine's transition table and
 * the desk's rules: which desk call takes each event, where a code may be requested, and which steps revoke
 * a live code. `docs/concepts.md` embeds it (`scripts/attendance-diagram.ts` writes it there).
 *
 * @module
 */
import {
  GUIDE_STATES,
  GUIDE_TRANSITIONS,
  type GuideEventType,
  type GuideState,
  TERMINAL_GUIDE_STATES,
} from "../../guide/states.js";
import type { AttendanceDesk } from "./desk.js";

/**
 * The desk call that takes each guide event; `undefined` for the steps after billing, which the operator's
 * payment cycle drives with the guide machine's `transition`.
 *
 * @example
 * ```ts
 * DESK_CALL_OF_EVENT.cancel; // "cancel"
 * ```
 */
export const DESK_CALL_OF_EVENT: Readonly<Record<GuideEventType, keyof AttendanceDesk | undefined>> =
  Object.freeze({
    start_review: "review",
    request_justification: "review",
    request_documents: "review",
    authorize: "authorize",
    deny: "deny",
    cancel: "cancel",
    confirm: "confirm",
    bill: "bill",
    pay: undefined,
    disallow: undefined,
    appeal: undefined,
    expire: "expireIfDue",
  });

/** The states in which `confirm` is in the transition table: the only ones where a code may live. */
function codeStates(): GuideState[] {
  return GUIDE_STATES.filter((state) =>
    GUIDE_TRANSITIONS.some((r) => r.from === state && r.event === "confirm"),
  );
}

/**
 * A Mermaid `stateDiagram-v2` of the attendance: every arrow of the guide machine labelled with the desk
 * call that takes it (`confirm` also by `confirmWithoutToken`), `✂ code` on the steps that revoke a live
 * code in the same call, and a note on the states where `requestToken` issues one.
 *
 * @example
 * ```ts
 * writeFileSync("lifecycle.mmd", attendanceLifecycleDiagram());
 * ```
 */
export function attendanceLifecycleDiagram(): string {
  const live = new Set(codeStates());
  const edges = new Map<string, string[]>();
  for (const rule of GUIDE_TRANSITIONS) {
    const key = `${rule.from} --> ${rule.to}`;
    const call = DESK_CALL_OF_EVENT[rule.event];
    let label = call === undefined ? `transition(${rule.event})` : call;
    // confirm consumes the code; confirmWithoutToken revokes a live one.
    if (rule.event === "confirm") label = "confirm / confirmWithoutToken ✂ code";
    // A step out of a state holding a code into one that cannot be confirmed revokes it (confirm by code
    // consumes it instead).
    if (live.has(rule.from) && !live.has(rule.to) && rule.event !== "confirm") label += " ✂ code";
    const labels = edges.get(key) ?? [];
    if (!labels.includes(label)) labels.push(label);
    edges.set(key, labels);
  }
  const lines = ["stateDiagram-v2", "    [*] --> requested : open"];
  for (const [key, labels] of edges) lines.push(`    ${key} : ${labels.join(", ")}`);
  for (const s of TERMINAL_GUIDE_STATES) lines.push(`    ${s} --> [*]`);
  for (const s of live) {
    lines.push(
      `    note right of ${s} : requestToken issues a code here only, valid no longer than the senha`,
    );
  }
  return `${lines.join("\n")}\n`;
}
