/**
 * The issue step of `RedisTokenStore` (internal). On a standalone server it is one script. On a cluster the
 * guide's keys (its token, cooldown and sends) and the beneficiary's (its failures and events) are in two slots,
 * and the events need the id of the token the save supersedes; the step is two round trips:
 *
 * 1. side by side, writing nothing: the beneficiary's lockout (its slot), and the guide's cooldown, sends and
 *    the live token a save would supersede (the guide's slot). A refusal ends the step here: nothing changed.
 * 2. side by side: the guide's script takes the hits and saves, on the condition that the save supersedes the
 *    token read in 1 (and that the limits still allow it); the beneficiary's script (and a guardian's, in its
 *    slot) appends the events built from that read.
 *
 * When the guide's script does not save (a limit taken in between, the token changed in between: another issue
 * or a verify of the same guide, or an error), the events appended beside it are taken back; after a change in
 * between, the step runs again in order (lockout, then the save, then the events: three round trips).
 *
 * @module
 */
import { composeIssueStep, revokedEvents } from "../ports/_composed-steps.js";
import type { TokenEvent } from "../ports/events.js";
import type { IssueStepInput, IssueStepResult } from "../ports/store-steps.js";
import { SCRIPTS } from "./_redis-scripts.js";
import { appendEvents, fail, type RedisStepHost, releaseEvents, together } from "./_redis-steps.js";
import { tokenValues } from "./_redis-token.js";

type Refusal = Exclude<IssueStepResult, { outcome: "saved" }>;
type ScriptResult =
  | { readonly outcome: "saved"; readonly superseded: string[] }
  | Refusal
  | { outcome: "conflict" };

/** What the issue script is told beyond the input. */
interface IssueMode {
  /** The beneficiary's failures counter is in the script's slot: checked there. */
  readonly checkFailures: boolean;
  /** Every event's log is in the script's slot: appended there. */
  readonly eventsHere: boolean;
  /** The save must supersede this token (`null`: none); `undefined`: no condition. */
  readonly expect?: string | null | undefined;
}

const MARK = "\u0000tokenId\u0000";
const MARK_JSON = JSON.stringify(MARK);

function refusalOf(reply: unknown[]): Refusal | undefined {
  const outcome = String(reply[0]);
  if (outcome === "locked_out" || outcome === "cooldown" || outcome === "sends_per_guide") {
    return { outcome, resetAtMs: Number(reply[1]) };
  }
  return undefined;
}

/** The issue script (see its layout in `_redis-scripts.ts`). */
async function issueScript(
  host: RedisStepHost,
  input: IssueStepInput,
  mode: IssueMode,
): Promise<ScriptResult> {
  const { token, failures, cooldown, sends } = input;
  const nowMs = token.issuedAtMs;
  const keys = [host.key("t", token.guideId), host.owned("c", sends.key)];
  if (mode.checkFailures) keys.push(host.owned("c", failures.key));
  if (cooldown) keys.push(host.owned("c", cooldown.key));
  let revokedText = "";
  let at = 0;
  const eventArgs: string[] = [];
  if (mode.eventsHere) {
    revokedText = JSON.stringify({ ...input.revokedEvent, tokenId: MARK });
    at = revokedText.lastIndexOf(MARK_JSON);
    const owner = input.revokedEvent.beneficiaryId;
    keys.push(host.key("ez", owner), host.key("eh", owner));
    for (const event of input.issuedEvents) {
      keys.push(host.key("ez", event.beneficiaryId), host.key("eh", event.beneficiaryId));
      eventArgs.push(event.id, String(event.atMs), JSON.stringify(event));
    }
  }
  const ttlMs = Math.max(1, Math.ceil(token.expiresAtMs - token.issuedAtMs + host.tokenRetentionMs));
  const reply = await host.eval("issueStep", SCRIPTS.issue, keys, [
    mode.checkFailures ? "1" : "0",
    cooldown ? "1" : "0",
    String(nowMs),
    String(failures.max),
    String(cooldown?.max ?? 0),
    String(cooldown?.windowMs ?? 0),
    String(sends.max),
    String(sends.windowMs),
    String(ttlMs),
    String(host.maxEvents),
    String(host.eventRetentionMs),
    mode.eventsHere ? "1" : "0",
    revokedText.slice(0, at),
    revokedText.slice(at + MARK_JSON.length),
    input.revokedEvent.id,
    String(input.revokedEvent.atMs),
    mode.expect === undefined ? "0" : mode.expect === null ? "1" : "2",
    mode.expect ?? "",
    ...tokenValues(token),
    ...eventArgs,
  ]);
  if (!Array.isArray(reply)) throw fail("issueStep");
  const refusal = refusalOf(reply);
  if (refusal) return refusal;
  const outcome = String(reply[0]);
  if (outcome === "conflict") return { outcome };
  if (outcome !== "saved") throw fail("issueStep");
  return { outcome, superseded: reply[1] === null || reply[1] === undefined ? [] : [String(reply[1])] };
}

/** `issueStep`: see the module. */
export async function issueStep(host: RedisStepHost, input: IssueStepInput): Promise<IssueStepResult> {
  const { token, failures, cooldown, sends } = input;
  if (!host.split) return oneSlot(host, input, true);
  const tk = host.key("t", token.guideId);
  const sk = host.owned("c", sends.key);
  if (!together(host, cooldown ? [tk, sk, host.owned("c", cooldown.key)] : [tk, sk]))
    return composeIssueStep(host.store, input);
  if (together(host, [tk, host.owned("c", failures.key)])) return oneSlot(host, input, false);
  const tried = await sideBySide(host, input);
  return tried ?? inOrder(host, input);
}

/** The failures in the guide's slot: one script, then (on a cluster) the events in their slots. */
async function oneSlot(
  host: RedisStepHost,
  input: IssueStepInput,
  eventsHere: boolean,
): Promise<IssueStepResult> {
  const result = await issueScript(host, input, { checkFailures: true, eventsHere });
  if (result.outcome === "conflict") throw fail("issueStep");
  if (result.outcome !== "saved") return result;
  const events = [...revokedEvents(input, result.superseded), ...input.issuedEvents];
  if (!eventsHere) await appendEvents(host, "issueStep", events, input.token.issuedAtMs);
  return { outcome: "saved", superseded: result.superseded, events };
}

/** The two round trips of the module; `undefined` when the guide's token changed in between. */
async function sideBySide(host: RedisStepHost, input: IssueStepInput): Promise<IssueStepResult | undefined> {
  const { token, failures, cooldown, sends } = input;
  const nowMs = token.issuedAtMs;
  const checkKeys = [host.key("t", token.guideId), host.owned("c", sends.key)];
  if (cooldown) checkKeys.push(host.owned("c", cooldown.key));
  const [failed, check] = await Promise.all([
    host.store.peek(failures.key, nowMs),
    host.eval("issueStep", SCRIPTS.issueCheck, checkKeys, [
      String(nowMs),
      cooldown ? "1" : "0",
      String(cooldown?.max ?? 0),
      String(sends.max),
    ]),
  ]);
  if (failed.count >= failures.max) return { outcome: "locked_out", resetAtMs: failed.resetAtMs };
  if (!Array.isArray(check)) throw fail("issueStep");
  const refusal = refusalOf(check);
  if (refusal) return refusal;
  if (String(check[0]) !== "ok") throw fail("issueStep");
  const live = check[1] === null || check[1] === undefined ? null : String(check[1]);
  const superseded = live === null ? [] : [live];
  const events = [...revokedEvents(input, superseded), ...input.issuedEvents];
  const [saved, appended] = await Promise.allSettled([
    issueScript(host, input, { checkFailures: false, eventsHere: false, expect: live }),
    appendEvents(host, "issueStep", events, nowMs),
  ]);
  const result = saved.status === "fulfilled" ? saved.value : undefined;
  if (result?.outcome === "saved") {
    // the save stands; events that failed to append are missing, as between any two scripts
    if (appended.status === "rejected") throw appended.reason;
    return { outcome: "saved", superseded, events };
  }
  // no save: take back the events (those that were appended; an id not found is skipped)
  await releaseEvents(host, "issueStep", events);
  if (result === undefined) throw (saved as PromiseRejectedResult).reason;
  return result.outcome === "conflict" ? undefined : result;
}

/** The lockout, then the save, then the events: three round trips, for when the token changed under a step. */
async function inOrder(host: RedisStepHost, input: IssueStepInput): Promise<IssueStepResult> {
  const { failures } = input;
  const nowMs = input.token.issuedAtMs;
  const failed = await host.store.peek(failures.key, nowMs);
  if (failed.count >= failures.max) return { outcome: "locked_out", resetAtMs: failed.resetAtMs };
  const result = await issueScript(host, input, { checkFailures: false, eventsHere: false });
  if (result.outcome === "conflict") throw fail("issueStep");
  if (result.outcome !== "saved") return result;
  const events: TokenEvent[] = [...revokedEvents(input, result.superseded), ...input.issuedEvents];
  await appendEvents(host, "issueStep", events, nowMs);
  return { outcome: "saved", superseded: result.superseded, events };
}
