/**
 * The intent-level steps of `RedisTokenStore` (internal), each one script on a standalone server. On a cluster
 * the keys of one script must share a slot, so a step that needs both the guide's slot and the beneficiary's
 * runs one script per slot (see the round trips in `redis.ts`; the issue step is in `_redis-issue.ts`); a step
 * given keys that are not of the `rateLimitKeys` shapes, so not in the slot of their owner, is composed from
 * the fine-grained methods there.
 *
 * @module
 */
import { StoreUnavailableError } from "../errors.js";
import { rateLimitKeys } from "../policy/rate-limit.js";
import { composeAppVerifyBegin, composeAppVerifyFinish } from "../ports/_composed-steps.js";
import type { TokenEvent } from "../ports/events.js";
import type { AttemptResult, TokenStore } from "../ports/store.js";
import {
  type AppVerifyBeginInput,
  type AppVerifyBeginResult,
  type AppVerifyFinishInput,
  type AppVerifyFinishResult,
  type VerifyStepInput,
  type VerifyStepResult,
  verifyStepEvents,
} from "../ports/store-steps.js";
import { slotTag } from "./_redis-keys.js";
import { SCRIPTS, type Script } from "./_redis-scripts.js";
import { parseToken } from "./_redis-token.js";

/** What the steps need of the store. */
export interface RedisStepHost {
  /** A cluster: the keys of one script must share a slot. */
  readonly split: boolean;
  readonly prefix: string;
  readonly maxEvents: number;
  readonly eventRetentionMs: number;
  readonly tokenRetentionMs: number;
  /** The store's verify script (its prefix, cap and retention built in). */
  readonly verifyScript: Script;
  eval(op: string, s: Script, keys: string[], args: string[]): Promise<unknown>;
  /**
   * `eval` in two halves, for a caller that awaits the driver's promise itself (one promise fewer): `send`
   * hands the driver `["EVALSHA", sha, numkeys, ...keys, ...args]` (`key` routes it), `recover` answers its
   * failure (the `EVAL` retry on `NOSCRIPT`; any other failure as `StoreUnavailableError`).
   */
  send(command: string[], key: string): Promise<unknown>;
  recover(op: string, s: Script, command: string[], key: string, error: unknown): Promise<unknown>;
  key(kind: "t" | "s" | "ez" | "eh", id: string): string;
  owned(kind: "c" | "o", key: string): string;
  /** `owned("c", key)` for a counter many calls share (a provider's), kept from one call to the next. */
  ownedShared(key: string): string;
  /** The store itself, for the fine-grained methods. */
  readonly store: TokenStore;
}

export function fail(op: string, cause?: unknown): StoreUnavailableError {
  return new StoreUnavailableError(`${op} failed`, { cause, scope: "redis" });
}

/**
 * The attempt of a script's reply: the outcome at 0, the token's `d`, status and attempts from `at`, and for a
 * wrong code or provider attemptsLeft at `leftAt`.
 */
function attemptAt(op: string, reply: unknown, at: number, leftAt: number): AttemptResult {
  if (!Array.isArray(reply)) throw fail(op);
  const outcome = String(reply[0]);
  if (outcome === "not_found") return { outcome };
  const token = parseToken(reply[at], reply[at + 1], reply[at + 2]);
  if (!token) throw fail(op);
  switch (outcome) {
    case "mismatch":
    case "wrong_provider":
      return { outcome, token, attemptsLeft: Number(reply[leftAt]) };
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

/** The attempt of the attempt script's `{outcome, attemptsLeft, d, status, attempts}`. */
export function attemptOf(op: string, reply: unknown): AttemptResult {
  return attemptAt(op, reply, 2, 1);
}

/** Whether every key is in one slot (always, on a standalone server). */
export function together(host: RedisStepHost, keys: readonly string[]): boolean {
  if (!host.split) return true;
  const tag = slotTag(keys[0]!);
  return keys.every((k) => slotTag(k) === tag);
}

interface Group {
  hit?: { readonly key: string; readonly windowMs: number };
  readonly keys: string[];
  readonly args: string[];
}

/** The scripts' keys and arguments, grouped by slot (one group on a standalone server). */
class Groups {
  readonly #groups = new Map<string, Group>();
  constructor(private readonly split: boolean) {}

  of(redisKey: string): Group {
    const tag = this.split ? slotTag(redisKey) : "";
    let group = this.#groups.get(tag);
    if (!group) {
      group = { keys: [], args: [] };
      this.#groups.set(tag, group);
    }
    return group;
  }

  all(): Group[] {
    return [...this.#groups.values()];
  }
}

/**
 * Appends events (each to its beneficiary's log, as `appendEvent` stores it), after one hit on `hit` when
 * given: one script on a standalone server, one per slot on a cluster (run side by side).
 */
export async function appendEvents(
  host: RedisStepHost,
  op: string,
  events: readonly TokenEvent[],
  nowMs: number,
  hit?: { readonly key: string; readonly windowMs: number },
): Promise<void> {
  const groups = new Groups(host.split);
  if (hit) groups.of(hit.key).hit = hit;
  for (const event of events) {
    const z = host.key("ez", event.beneficiaryId);
    const group = groups.of(z);
    group.keys.push(z, host.key("eh", event.beneficiaryId));
    group.args.push(event.id, String(event.atMs), JSON.stringify(event));
  }
  await Promise.all(
    groups
      .all()
      .map((g) =>
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

/** Takes back events `appendEvents` appended (by id; one not in its log is skipped), one script per slot. */
export async function releaseEvents(
  host: RedisStepHost,
  op: string,
  events: readonly TokenEvent[],
): Promise<void> {
  const groups = new Groups(host.split);
  for (const event of events) {
    const z = host.key("ez", event.beneficiaryId);
    const group = groups.of(z);
    group.keys.push(z, host.key("eh", event.beneficiaryId));
    group.args.push(event.id);
  }
  await Promise.all(groups.all().map((g) => host.eval(op, SCRIPTS.unappend, g.keys, g.args)));
}

/** Whether a string's JSON text is the string itself in quotes (nothing to escape). */
function plain(text: string, json: string): boolean {
  return json.length === text.length + 2;
}

/** The attempt of the verify script's `{outcome, d, status, attempts, settled[, attemptsLeft[, count]]}`. */
function verifyAttemptOf(reply: unknown): AttemptResult {
  return attemptAt("verifyStep", reply, 1, 5);
}

/** `verifyStep`: one script on a standalone server; on a cluster see the module. */
export async function verifyStep(host: RedisStepHost, input: VerifyStepInput): Promise<VerifyStepResult> {
  const { guideId, providerId, nowMs, eventIds } = input;
  const tk = host.key("t", guideId);
  const id0 = eventIds[0];
  const id1 = eventIds[1];
  const s = host.verifyScript;
  const command = host.split
    ? ["EVALSHA", s.sha, "1", tk]
    : ["EVALSHA", s.sha, "2", tk, host.ownedShared(input.providerFailures.key)];
  command.push(
    providerId,
    input.candidateHash,
    String(nowMs),
    id0,
    `${input.failureWindowMs},${input.providerFailures.windowMs},${id1}`,
  );
  // the JSON texts only when one of them is not the text in quotes (see the script)
  const pj = JSON.stringify(providerId);
  const j0 = JSON.stringify(id0);
  const j1 = JSON.stringify(id1);
  if (!(plain(providerId, pj) && plain(id0, j0) && plain(id1, j1))) command.push(pj, j0, j1);
  let reply: unknown;
  try {
    reply = await host.send(command, tk);
  } catch (error) {
    reply = await host.recover("verifyStep", s, command, tk, error);
  }
  const attempt = verifyAttemptOf(reply);
  if (attempt.outcome === "not_found") return { attempt, events: [] };
  const settled = (reply as unknown[])[4];
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
