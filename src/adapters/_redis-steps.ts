/**
 * The intent-level steps of `RedisTokenStore` (internal), each one script on a standalone server. On a cluster
 * the keys of one script must share a slot, so a step that needs both the guide's slot and the beneficiary's
 * runs one script per slot, in order (see the round trips in `redis.ts`); a step given keys that are not of the
 * `rateLimitKeys` shapes, so not in the slot of their owner, is composed from the fine-grained methods there.
 *
 * @module
 */
import { StoreUnavailableError } from "../errors.js";
import { rateLimitKeys } from "../policy/rate-limit.js";
import {
  composeAppVerifyBegin,
  composeAppVerifyFinish,
  composeIssueStep,
  revokedEvents,
} from "../ports/_composed-steps.js";
import type { TokenEvent } from "../ports/events.js";
import type { AttemptResult, TokenStore } from "../ports/store.js";
import {
  type AppVerifyBeginInput,
  type AppVerifyBeginResult,
  type AppVerifyFinishInput,
  type AppVerifyFinishResult,
  type IssueStepInput,
  type IssueStepResult,
  type VerifyStepInput,
  type VerifyStepResult,
  verifyStepEvents,
} from "../ports/store-steps.js";
import { slotTag } from "./_redis-keys.js";
import { SCRIPTS, type Script } from "./_redis-scripts.js";
import { parseToken, tokenFields } from "./_redis-token.js";

/** What the steps need of the store. */
export interface RedisStepHost {
  /** A cluster: the keys of one script must share a slot. */
  readonly split: boolean;
  readonly prefix: string;
  readonly maxEvents: number;
  readonly eventRetentionMs: number;
  readonly tokenRetentionMs: number;
  eval(op: string, s: Script, keys: string[], args: string[]): Promise<unknown>;
  key(kind: "t" | "s" | "ez" | "eh", id: string): string;
  owned(kind: "c" | "o", key: string): string;
  /** The store itself, for the fine-grained methods. */
  readonly store: TokenStore;
}

function fail(op: string, cause?: unknown): StoreUnavailableError {
  return new StoreUnavailableError(`${op} failed`, { cause, scope: "redis" });
}

/** The attempt of a `{outcome, attemptsLeft, d, status, attempts, …}` reply (the attempt and verify scripts). */
export function attemptOf(op: string, reply: unknown): AttemptResult {
  if (!Array.isArray(reply)) throw fail(op);
  const outcome = String(reply[0]);
  if (outcome === "not_found") return { outcome };
  const token = parseToken(reply[2], reply[3], reply[4]);
  if (!token) throw fail(op);
  switch (outcome) {
    case "mismatch":
    case "wrong_provider":
      return { outcome, token, attemptsLeft: Number(reply[1]) };
    case "ok":
    case "expired":
    case "consumed":
    case "revoked":
    case "locked":
    case "superseded":
      return { outcome, token };
    default:
      throw fail(op);
  }
}

/** Whether every key is in one slot (always, on a standalone server). */
function together(host: RedisStepHost, keys: readonly string[]): boolean {
  if (!host.split) return true;
  const tag = slotTag(keys[0]!);
  return keys.every((k) => slotTag(k) === tag);
}

/**
 * Appends events (each to its beneficiary's log, as `appendEvent` stores it), after one hit on `hit` when
 * given: one script on a standalone server, one per slot on a cluster (run side by side).
 */
async function appendEvents(
  host: RedisStepHost,
  op: string,
  events: readonly TokenEvent[],
  nowMs: number,
  hit?: { readonly key: string; readonly windowMs: number },
): Promise<void> {
  interface Group {
    hit?: { readonly key: string; readonly windowMs: number };
    readonly keys: string[];
    readonly args: string[];
  }
  const groups = new Map<string, Group>();
  const groupOf = (redisKey: string): Group => {
    const tag = host.split ? slotTag(redisKey) : "";
    let group = groups.get(tag);
    if (!group) {
      group = { keys: [], args: [] };
      groups.set(tag, group);
    }
    return group;
  };
  if (hit) groupOf(hit.key).hit = hit;
  for (const event of events) {
    const z = host.key("ez", event.beneficiaryId);
    const group = groupOf(z);
    group.keys.push(z, host.key("eh", event.beneficiaryId));
    group.args.push(event.id, String(event.atMs), JSON.stringify(event));
  }
  await Promise.all(
    [...groups.values()].map((g) =>
      host.eval(op, SCRIPTS.events, g.hit ? [g.hit.key, ...g.keys] : g.keys, [
        g.hit ? "1" : "0",
        String(g.hit?.windowMs ?? 0),
        String(nowMs),
        String(host.maxEvents),
        String(host.eventRetentionMs),
        ...g.args,
      ]),
    ),
  );
}

const MARK = "\u0000tokenId\u0000";
const MARK_JSON = JSON.stringify(MARK);

/** `issueStep`: one script on a standalone server; on a cluster see the module. */
export async function issueStep(host: RedisStepHost, input: IssueStepInput): Promise<IssueStepResult> {
  const { token, failures, cooldown, sends } = input;
  const nowMs = token.issuedAtMs;
  const tk = host.key("t", token.guideId);
  const fk = host.owned("c", failures.key);
  const sk = host.owned("c", sends.key);
  const ck = cooldown ? host.owned("c", cooldown.key) : undefined;
  let checkFailures = true;
  let eventsHere = true;
  if (host.split) {
    if (!together(host, ck === undefined ? [tk, sk] : [tk, sk, ck]))
      return composeIssueStep(host.store, input);
    eventsHere = false; // in the beneficiaries' slots, after the save
    if (!together(host, [tk, fk])) {
      checkFailures = false;
      const failed = await host.store.peek(failures.key, nowMs);
      if (failed.count >= failures.max) return { outcome: "locked_out", resetAtMs: failed.resetAtMs };
    }
  }
  const revokedText = JSON.stringify({ ...input.revokedEvent, tokenId: MARK });
  const at = revokedText.lastIndexOf(MARK_JSON);
  const fields = tokenFields(token);
  const keys = [tk, sk];
  if (checkFailures) keys.push(fk);
  if (ck !== undefined) keys.push(ck);
  const eventArgs: string[] = [];
  if (eventsHere) {
    const owner = input.revokedEvent.beneficiaryId;
    keys.push(host.key("ez", owner), host.key("eh", owner));
    for (const event of input.issuedEvents) {
      keys.push(host.key("ez", event.beneficiaryId), host.key("eh", event.beneficiaryId));
      eventArgs.push(event.id, String(event.atMs), JSON.stringify(event));
    }
  }
  const ttlMs = Math.max(1, Math.ceil(token.expiresAtMs - token.issuedAtMs + host.tokenRetentionMs));
  const reply = await host.eval("issueStep", SCRIPTS.issue, keys, [
    checkFailures ? "1" : "0",
    ck === undefined ? "0" : "1",
    String(nowMs),
    String(failures.max),
    String(cooldown?.max ?? 0),
    String(cooldown?.windowMs ?? 0),
    String(sends.max),
    String(sends.windowMs),
    String(ttlMs),
    String(host.maxEvents),
    String(host.eventRetentionMs),
    eventsHere ? "1" : "0",
    revokedText.slice(0, at),
    revokedText.slice(at + MARK_JSON.length),
    input.revokedEvent.id,
    String(input.revokedEvent.atMs),
    String(fields.length),
    ...fields,
    ...eventArgs,
  ]);
  if (!Array.isArray(reply)) throw fail("issueStep");
  const outcome = String(reply[0]);
  if (outcome === "locked_out" || outcome === "cooldown" || outcome === "sends_per_guide") {
    return { outcome, resetAtMs: Number(reply[1]) };
  }
  if (outcome !== "saved") throw fail("issueStep");
  const superseded = reply[1] === null || reply[1] === undefined ? [] : [String(reply[1])];
  const events = [...revokedEvents(input, superseded), ...input.issuedEvents];
  if (!eventsHere) await appendEvents(host, "issueStep", events, nowMs);
  return { outcome: "saved", superseded, events };
}

/** `verifyStep`: one script on a standalone server; on a cluster see the module. */
export async function verifyStep(host: RedisStepHost, input: VerifyStepInput): Promise<VerifyStepResult> {
  const { guideId, providerId, nowMs, eventIds } = input;
  const tk = host.key("t", guideId);
  const one = !host.split;
  const reply = await host.eval(
    "verifyStep",
    SCRIPTS.verify,
    one ? [tk, host.owned("c", input.providerFailures.key)] : [tk],
    [
      providerId,
      input.candidateHash,
      String(nowMs),
      one ? "1" : "0",
      host.prefix,
      String(input.failureWindowMs),
      String(input.providerFailures.windowMs),
      String(host.maxEvents),
      String(host.eventRetentionMs),
      eventIds[0],
      JSON.stringify(eventIds[0]),
      eventIds[1],
      JSON.stringify(eventIds[1]),
      JSON.stringify(guideId),
      JSON.stringify(providerId),
    ],
  );
  const attempt = attemptOf("verifyStep", reply);
  if (attempt.outcome === "not_found") return { attempt, events: [] };
  const settled = (reply as unknown[])[5];
  if (Number(settled) === 1) {
    const count = attempt.outcome === "wrong_provider" ? Number((reply as unknown[])[6]) : undefined;
    return { attempt, events: verifyStepEvents(input, attempt, count) };
  }
  // The beneficiary's side in its own slot (a cluster; or a token saved before the steps, without 'b').
  let providerFailures: number | undefined;
  if (attempt.outcome === "wrong_provider") {
    const counter = input.providerFailures;
    providerFailures = (await host.store.increment(counter.key, counter.windowMs, nowMs)).count;
  }
  const events = verifyStepEvents(input, attempt, providerFailures);
  const hit =
    attempt.outcome === "mismatch"
      ? {
          key: host.owned("c", rateLimitKeys.failures(attempt.token.beneficiaryId)),
          windowMs: input.failureWindowMs,
        }
      : undefined;
  await appendEvents(host, "verifyStep", events, nowMs, hit);
  return { attempt, events };
}

/** `appVerifyBegin`: one script when its keys share a slot (always with `rateLimitKeys`). */
export async function appVerifyBegin(
  host: RedisStepHost,
  input: AppVerifyBeginInput,
): Promise<AppVerifyBeginResult> {
  const { failures, attempts, lockedEvent, nowMs } = input;
  const keys = [
    host.owned("c", failures.key),
    host.owned("c", attempts.key),
    host.key("s", input.beneficiaryId),
    host.key("ez", lockedEvent.beneficiaryId),
    host.key("eh", lockedEvent.beneficiaryId),
  ];
  if (!together(host, keys)) return composeAppVerifyBegin(host.store, input);
  const reply = await host.eval("appVerifyBegin", SCRIPTS.appBegin, keys, [
    String(nowMs),
    String(failures.max),
    String(failures.windowMs),
    String(attempts.max),
    String(attempts.windowMs),
    String(host.maxEvents),
    String(host.eventRetentionMs),
    lockedEvent.id,
    String(lockedEvent.atMs),
    JSON.stringify(lockedEvent),
  ]);
  if (!Array.isArray(reply)) throw fail("appVerifyBegin");
  const outcome = String(reply[0]);
  if (outcome === "locked") return { outcome, events: [lockedEvent] };
  if (outcome === "not_found") return { outcome };
  const [, count, keyId, ciphertext, createdAtMs] = reply as unknown[];
  if (outcome !== "compare" || typeof keyId !== "string" || typeof ciphertext !== "string" || !createdAtMs) {
    throw fail("appVerifyBegin");
  }
  return {
    outcome,
    attempts: Number(count),
    secret: { beneficiaryId: input.beneficiaryId, keyId, ciphertext, createdAtMs: Number(createdAtMs) },
  };
}

/** `appVerifyFinish`: one script when its keys share a slot (always with `rateLimitKeys`). */
export async function appVerifyFinish(
  host: RedisStepHost,
  input: AppVerifyFinishInput,
): Promise<AppVerifyFinishResult> {
  const { nowMs } = input;
  if (!input.matched) {
    await appendEvents(host, "appVerifyFinish", input.events, nowMs);
    return { first: false, events: input.events };
  }
  const { verifiedEvent, replayedEvent } = input;
  const keys = [
    host.owned("o", input.claim.key),
    host.owned("c", input.failuresKey),
    host.key("ez", verifiedEvent.beneficiaryId),
    host.key("eh", verifiedEvent.beneficiaryId),
    host.key("ez", replayedEvent.beneficiaryId),
    host.key("eh", replayedEvent.beneficiaryId),
  ];
  if (!together(host, keys)) return composeAppVerifyFinish(host.store, input);
  const reply = await host.eval("appVerifyFinish", SCRIPTS.appFinish, keys, [
    String(nowMs),
    String(input.claim.expiresAtMs),
    String(host.maxEvents),
    String(host.eventRetentionMs),
    verifiedEvent.id,
    String(verifiedEvent.atMs),
    JSON.stringify(verifiedEvent),
    replayedEvent.id,
    String(replayedEvent.atMs),
    JSON.stringify(replayedEvent),
  ]);
  const first = Number(reply) === 1;
  return { first, events: [first ? verifiedEvent : replayedEvent] };
}
